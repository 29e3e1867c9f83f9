"""How cells of an extracted list are read: text cleaning, match keys, numbers, swaps."""

import pytest

from tracker.importing.lists import looks_like_organisation, looks_swapped
from tracker.models import FilingType
from tracker.numbers import number_problems, number_type
from tracker.text import clean_name, clean_number, match_key, pinyin_key

TOKENS = {"beijing", "shanghai", "jiangsu", "zhejiang", "hunan", "zhongyangqiye"}


@pytest.mark.parametrize(
    "cell, cleaned",
    [
        ("北京百度网讯科技有限 公司", "北京百度网讯科技有限公司"),
        ("广西壮 族自治 区", "广西壮族自治区"),
        # A gap after a full-width bracket is one, before NFKC makes the bracket ASCII.
        ("竹间智能科技（上海） 有限公司", "竹间智能科技(上海)有限公司"),
        ("高效办成“一件事” 智能客服", "高效办成“一件事”智能客服"),
        # A zero-width character beside a gap does not hide it.
        ("有限\u200b 公司", "有限公司"),
        # Between Latin words, and between Latin and Chinese, white space is real.
        ("WPS AI", "WPS AI"),
        ("求索对话DeepSeek Chat", "求索对话DeepSeek Chat"),
        ("方太 HealthyCooking GPT大模型", "方太 HealthyCooking GPT大模型"),
        # Full-width letters are Latin text: their space stays.
        ("ＷＰＳ　ＡＩ", "WPS AI"),
        ("  文心一言\u3000", "文心一言"),
        (None, ""),
    ],
)
def test_clean_name_removes_line_wrap_gaps_between_chinese_characters_only(cell, cleaned):
    assert clean_name(cell) == cleaned


@pytest.mark.parametrize(
    "cell, cleaned",
    [
        ("Anhui-XingHuoRenZhiDaMoXing- 20230823", "Anhui-XingHuoRenZhiDaMoXing-20230823"),
        (
            "Guangdong- ShangTangAIDaiMaShengChengMoXing -202503050020",
            "Guangdong-ShangTangAIDaiMaShengChengMoXing-202503050020",
        ),
        ("Jiangsu-Aryn GPT-20240318", "Jiangsu-Aryn GPT-20240318"),
        ("Jiangsu- SiWeiXiangLiangZhiSuanYun-", "Jiangsu-SiWeiXiangLiangZhiSuanYun-"),
    ],
)
def test_clean_number_also_removes_white_space_beside_a_hyphen(cell, cleaned):
    assert clean_number(cell) == cleaned


def test_match_key_ignores_white_space_case_and_bracket_width():
    assert (
        match_key("滴滴出行（北京）网络 平台技术有限公司")
        == match_key("滴滴出行(北京)网络平台技术有限公司")
        == "滴滴出行(北京)网络平台技术有限公司"
    )
    assert match_key("Jiangsu-Aryn GPT-20240318") == match_key("jiangsu-ArynGPT-20240318")
    assert match_key("Fourth Paradigm Ltd") == "fourthparadigmltd"


def test_pinyin_key_is_one_lower_case_word_for_names_with_chinese():
    assert pinyin_key("华为云盘古NLP大模型") == "huaweiyunpangunlpdamoxing"
    assert pinyin_key("WPS AI") == ""
    assert pinyin_key("") == ""


@pytest.mark.parametrize(
    "number, said",
    [
        ("Hunan-wsSuperMedia-20250905S0005", FilingType.REGISTRATION),
        ("Beijing-DeepseekChat-202404280016", FilingType.FILING),
        ("Beijing-YunQue-20230821", FilingType.FILING),
        ("Jiangsu-SiWeiXiangLiangZhiSuanYun-", None),
        ("", None),
    ],
)
def test_a_number_says_its_type_when_it_can(number, said):
    assert number_type(number) == said


@pytest.mark.parametrize(
    "number, filing_type, problems",
    [
        ("Beijing-YunQue-20230821", FilingType.FILING, []),
        ("ZhongYangQiYe-JiuTian-20240123", FilingType.FILING, []),
        ("Hunan-wsSuperMedia-20250905S0005", FilingType.REGISTRATION, []),
        (
            "Jiangsu-SiWeiXiangLiangZhiSuanYun-",
            FilingType.REGISTRATION,
            ["The number Jiangsu-SiWeiXiangLiangZhiSuanYun- looks cut off in the published list."],
        ),
        (
            "ZheJiang-HuaShuShiHuaWenLvDaMoXing-20250609000026",
            FilingType.FILING,
            [
                "The number ZheJiang-HuaShuShiHuaWenLvDaMoXing-20250609000026 is not in the "
                "form REGION-NAME-DATE of the lists."
            ],
        ),
        (
            "Shinghai-AiMinSuGuanJia-20240726S0021",
            FilingType.REGISTRATION,
            ["The region “Shinghai” in the number names no province (a typo in the list?)."],
        ),
        (
            "Beijing-Example-20241301",
            FilingType.FILING,
            ["The date 20241301 in the number is not a calendar date."],
        ),
        (
            "Beijing-Example-20240105S0001",
            FilingType.FILING,
            ["The number is a registration number, but the record is a filing."],
        ),
    ],
)
def test_what_looks_wrong_in_a_number_is_said(number, filing_type, problems):
    assert number_problems(number, filing_type, TOKENS) == problems


@pytest.mark.parametrize(
    "model, applicant, swapped",
    [
        ("深圳市商汤科技有限公司", "商汤AI代码生成模型", True),
        ("Acme Technology Co., Ltd", "Acme GPT", True),
        ("文心一言", "北京百度网讯科技有限公司", False),
        # A hospital, a broadcaster or a government office files too.
        ("智能导诊服务中心", "北京市第一人民医院", False),
        ("某某科技有限公司", "云南广播电视台", False),
        ("某某科技有限公司", "某某市市场监督管理局", False),
        # Latin company forms count as a word of their own only.
        ("Zinc", "Zinc Lab Assistant", False),
    ],
)
def test_a_row_looks_swapped_only_when_its_model_cell_is_a_company(model, applicant, swapped):
    assert looks_swapped(model, applicant) is swapped


def test_latin_company_forms_are_recognised_as_words():
    assert looks_like_organisation("Acme Inc.")
    assert looks_like_organisation("Acme Group")
    assert not looks_like_organisation("Zinc")
    assert not looks_like_organisation("Bigroup")
