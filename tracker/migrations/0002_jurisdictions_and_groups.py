"""Reference data every install needs: the jurisdictions and the two staff groups."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# code (ISO 3166-2:CN), Chinese name, English name, filing-number token
JURISDICTIONS = [
    ("BJ", "北京", "Beijing", "Beijing"),
    ("TJ", "天津", "Tianjin", "Tianjin"),
    ("HE", "河北", "Hebei", "Hebei"),
    ("SX", "山西", "Shanxi", "Shanxi"),
    ("NM", "内蒙古", "Inner Mongolia", "NeiMengGu"),
    ("LN", "辽宁", "Liaoning", "Liaoning"),
    ("JL", "吉林", "Jilin", "Jilin"),
    ("HL", "黑龙江", "Heilongjiang", "Heilongjiang"),
    ("SH", "上海", "Shanghai", "Shanghai"),
    ("JS", "江苏", "Jiangsu", "Jiangsu"),
    ("ZJ", "浙江", "Zhejiang", "Zhejiang"),
    ("AH", "安徽", "Anhui", "Anhui"),
    ("FJ", "福建", "Fujian", "Fujian"),
    ("JX", "江西", "Jiangxi", "Jiangxi"),
    ("SD", "山东", "Shandong", "Shandong"),
    ("HA", "河南", "Henan", "Henan"),
    ("HB", "湖北", "Hubei", "Hubei"),
    ("HN", "湖南", "Hunan", "Hunan"),
    ("GD", "广东", "Guangdong", "Guangdong"),
    ("GX", "广西", "Guangxi", "Guangxi"),
    ("HI", "海南", "Hainan", "Hainan"),
    ("CQ", "重庆", "Chongqing", "Chongqing"),
    ("SC", "四川", "Sichuan", "Sichuan"),
    ("GZ", "贵州", "Guizhou", "Guizhou"),
    ("YN", "云南", "Yunnan", "Yunnan"),
    ("XZ", "西藏", "Tibet", "Xizang"),
    ("SN", "陕西", "Shaanxi", "Shaanxi"),
    ("GS", "甘肃", "Gansu", "Gansu"),
    ("QH", "青海", "Qinghai", "Qinghai"),
    ("NX", "宁夏", "Ningxia", "Ningxia"),
    ("XJ", "新疆", "Xinjiang", "Xinjiang"),
    ("SASAC", "国资委", "Central state-owned enterprises (SASAC)", "ZhongYangQiYe"),
]

EDITOR_PERMISSIONS = [
    "add_applicant",
    "change_applicant",
    "view_applicant",
    "add_aimodel",
    "change_aimodel",
    "view_aimodel",
    "add_batch",
    "change_batch",
    "view_batch",
    "view_jurisdiction",
    "view_statuschange",
]
REVIEWER_PERMISSIONS = [*EDITOR_PERMISSIONS, "change_status"]


def create_reference_data(apps, schema_editor):
    Jurisdiction = apps.get_model("tracker", "Jurisdiction")
    for order, (code, name_zh, name_en, token) in enumerate(JURISDICTIONS):
        Jurisdiction.objects.update_or_create(
            code=code,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "filing_token": token,
                "sort_order": order,
            },
        )

    # Permissions are normally created after migrations; the groups need them now.
    tracker = apps.get_app_config("tracker")
    tracker.models_module = True
    create_permissions(tracker, apps=apps, verbosity=0)
    tracker.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in (("Editors", EDITOR_PERMISSIONS), ("Reviewers", REVIEWER_PERMISSIONS)):
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="tracker", codename__in=codenames)
        )


def remove_reference_data(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Reviewers"]).delete()
    apps.get_model("tracker", "Jurisdiction").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_reference_data, remove_reference_data)]
