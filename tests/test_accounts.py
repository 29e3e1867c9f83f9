"""Staff sign-in: lock-out after repeated failures (django-axes), password rules wherever a
password is set, and the one-time code Reviewers may be asked for (django-otp)."""

import datetime
import io

import pytest
from axes.models import AccessAttempt
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory
from tracker.accounts import SecondFactorLoginForm, client_address

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"
LOGIN = "/admin/login/"
INDEX = "/admin/"
WRONG_PASSWORD_ERROR = "Please enter the correct username and password for a staff account."


def sign_in(client, username, password=PASSWORD, address="127.0.0.1", forwarded_for=None, **fields):
    data = {"username": username, "password": password, "next": INDEX, **fields}
    proxied = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post(LOGIN, data, REMOTE_ADDR=address, **proxied)


def reaches_the_admin(client):
    return client.get(INDEX).status_code == 200


def current_code(device):
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"


# Lock-out ---------------------------------------------------------------------------------


def test_the_fifth_failure_with_one_username_locks_it_out(client, editor):
    for _attempt in range(4):
        response = sign_in(client, editor.username, "wrong")
        assert response.status_code == 200
        assert WRONG_PASSWORD_ERROR in response.content.decode()

    response = sign_in(client, editor.username, "wrong")

    assert response.status_code == 429
    assert "admin/locked_out.html" in [t.name for t in response.templates]
    page = response.content.decode()
    assert "is locked for 60 minutes." in page
    assert "ask an administrator of this site (a superuser) to lift the lock" in page
    assert "Generative AI approval tracker" in page


def test_a_locked_username_is_refused_its_right_password_from_any_address(client, editor):
    for _attempt in range(5):
        sign_in(client, editor.username, "wrong", address="198.51.100.1")

    response = sign_in(client, editor.username, address="198.51.100.2")

    assert response.status_code == 429
    assert not reaches_the_admin(client)


def test_failures_from_one_address_lock_it_out_whatever_the_usernames(client, editor):
    for n in range(4):
        assert sign_in(client, f"guess{n}", "wrong", address="203.0.113.7").status_code == 200

    assert sign_in(client, "guess4", "wrong", address="203.0.113.7").status_code == 429
    assert sign_in(client, editor.username, address="203.0.113.7").status_code == 429
    assert not reaches_the_admin(client)

    response = sign_in(client, editor.username, address="203.0.113.8")

    assert response.status_code == 302
    assert response.url == INDEX
    assert reaches_the_admin(client)


def test_fewer_failures_than_the_limit_lock_nothing(client, editor):
    for _attempt in range(4):
        sign_in(client, editor.username, "wrong")

    response = sign_in(client, editor.username)

    assert response.status_code == 302
    assert reaches_the_admin(client)


def test_the_limit_and_the_cool_off_come_from_the_settings(client, editor, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)

    assert sign_in(client, editor.username, "wrong").status_code == 200
    response = sign_in(client, editor.username, "wrong")

    assert response.status_code == 429
    assert "is locked for 15 minutes." in response.content.decode()


def test_axes_reset_lifts_every_lock(client, editor):
    for _attempt in range(5):
        sign_in(client, editor.username, "wrong")
    assert AccessAttempt.objects.count() == 1

    call_command("axes_reset")

    assert AccessAttempt.objects.count() == 0
    response = sign_in(client, editor.username)
    assert response.status_code == 302
    assert reaches_the_admin(client)


def test_axes_reset_username_lifts_that_username_only(client, editor, reviewer):
    for user in (editor, reviewer):
        for _attempt in range(5):
            sign_in(client, user.username, "wrong", address=f"192.0.2.{user.pk}")

    call_command("axes_reset_username", editor.username)

    assert sign_in(client, reviewer.username, address="192.0.2.200").status_code == 429
    assert sign_in(client, editor.username, address="192.0.2.201").status_code == 302


def test_behind_proxies_failures_count_against_the_address_the_proxies_saw(
    client, editor, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    proxy = "10.0.0.1"

    for n in range(4):
        sign_in(client, f"guess{n}", "wrong", address=proxy, forwarded_for="203.0.113.7")
    response = sign_in(client, "guess4", "wrong", address=proxy, forwarded_for="203.0.113.7")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    # The proxy's other clients are not locked out with it.
    response = sign_in(client, editor.username, address=proxy, forwarded_for="198.51.100.9")
    assert response.status_code == 302


def test_the_client_address_is_the_one_the_api_rate_limit_counts(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.7")

    assert client_address(request) == "10.0.0.1"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    assert client_address(request) == "203.0.113.7"
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 2}
    assert client_address(request) == "1.2.3.4"
    assert client_address(rf.get("/", HTTP_X_FORWARDED_FOR="not-an-address")) is None


def test_force_login_still_signs_staff_in_for_tests(client, editor):
    client.force_login(editor)

    assert reaches_the_admin(client)


# Password rules ---------------------------------------------------------------------------

WEAK_PASSWORDS = [
    ("password", "This password is too common."),
    ("38194726", "This password is entirely numeric."),
    ("Qx7!kp", "This password is too short. It must contain at least 8 characters."),
    ("newcolleague1", "The password is too similar to the username."),
]


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


@pytest.mark.parametrize(("password", "error"), WEAK_PASSWORDS)
def test_a_weak_password_is_refused_when_adding_a_user(superuser_client, password, error):
    response = superuser_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcolleague",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not User.objects.filter(username="newcolleague").exists()


def test_a_strong_password_is_accepted_when_adding_a_user(superuser_client):
    response = superuser_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcolleague",
            "usable_password": "true",
            "password1": "stacked-lantern-orbit",
            "password2": "stacked-lantern-orbit",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="newcolleague").check_password("stacked-lantern-orbit")


@pytest.mark.parametrize(("password", "error"), WEAK_PASSWORDS)
def test_a_weak_password_is_refused_when_a_superuser_changes_one(superuser_client, password, error):
    colleague = UserFactory(username="newcolleague", groups=["Editors"])
    page = reverse("admin:auth_user_password_change", args=[colleague.pk])

    response = superuser_client.post(
        page, {"usable_password": "true", "password1": password, "password2": password}
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    colleague.refresh_from_db()
    assert colleague.check_password(PASSWORD)


def test_a_weak_password_is_refused_when_staff_change_their_own(client, editor):
    client.force_login(editor)

    response = client.post(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": "password", "new_password2": "password"},
    )

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    editor.refresh_from_db()
    assert editor.check_password(PASSWORD)


# Two-factor sign-in -----------------------------------------------------------------------


@pytest.fixture
def two_factor(settings):
    settings.REQUIRE_2FA_FOR_REVIEWERS = True


@pytest.fixture
def phone(reviewer):
    return TOTPDevice.objects.create(user=reviewer, name="phone")


def test_with_2fa_off_the_login_is_django_s_own(client):
    response = client.get(LOGIN)

    assert type(response.context["form"]) is AdminAuthenticationForm
    assert [t.name for t in response.templates][0] == "admin/login.html"
    assert "otp_token" not in response.content.decode()


def test_with_2fa_off_a_reviewer_with_a_device_signs_in_with_a_password(client, reviewer, phone):
    response = sign_in(client, reviewer.username)

    assert response.status_code == 302
    assert reaches_the_admin(client)


def test_with_2fa_on_the_login_asks_for_a_one_time_code(client, two_factor):
    response = client.get(LOGIN)

    assert type(response.context["form"]) is SecondFactorLoginForm
    assert 'name="otp_token"' in response.content.decode()
    assert 'autocomplete="one-time-code"' in response.content.decode()


def test_with_2fa_on_a_reviewer_cannot_reach_the_admin_with_a_password_alone(
    client, reviewer, phone, two_factor
):
    response = sign_in(client, reviewer.username)

    assert response.status_code == 200
    assert "Enter the one-time code from your authenticator app." in response.content.decode()
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={INDEX}"


def test_with_2fa_on_a_reviewer_signs_in_with_a_valid_code(client, reviewer, phone, two_factor):
    response = sign_in(client, reviewer.username, otp_token=current_code(phone))

    assert response.status_code == 302
    assert response.url == INDEX
    assert reaches_the_admin(client)


def test_with_2fa_on_a_wrong_code_is_refused(client, reviewer, phone, two_factor):
    wrong = f"{(int(current_code(phone)) + 1) % 10**6:06d}"

    response = sign_in(client, reviewer.username, otp_token=wrong)

    assert response.status_code == 200
    assert "That one-time code is wrong or has expired" in response.content.decode()
    assert not reaches_the_admin(client)


def test_with_2fa_on_a_superuser_is_asked_too(client, two_factor):
    superuser = UserFactory(is_superuser=True)
    device = TOTPDevice.objects.create(user=superuser, name="phone")

    assert sign_in(client, superuser.username).status_code == 200
    assert not reaches_the_admin(client)
    assert sign_in(client, superuser.username, otp_token=current_code(device)).status_code == 302
    assert reaches_the_admin(client)


def test_with_2fa_on_a_reviewer_without_a_device_is_told_to_ask_for_one(
    client, reviewer, two_factor
):
    response = sign_in(client, reviewer.username, otp_token="123456")

    assert response.status_code == 200
    assert "You have no authenticator device yet" in response.content.decode()
    assert not reaches_the_admin(client)


def test_with_2fa_on_an_editor_is_not_asked(client, editor, two_factor):
    response = sign_in(client, editor.username)

    assert response.status_code == 302
    assert reaches_the_admin(client)


def test_with_2fa_on_a_reviewer_session_without_a_code_is_sent_to_sign_in(
    client, reviewer, editor, two_factor
):
    client.force_login(reviewer)
    assert client.get(INDEX).status_code == 302

    client.force_login(editor)
    assert reaches_the_admin(client)


def test_a_superuser_enrols_a_reviewer_from_the_admin(client, reviewer, two_factor, settings):
    settings.REQUIRE_2FA_FOR_REVIEWERS = False
    client.force_login(UserFactory(is_superuser=True))
    add_page = reverse("admin:otp_totp_totpdevice_add")
    form = client.get(add_page).context["adminform"].form
    # What the browser sends back: the page's own values (the new key, 30 s, 6 digits, …).
    shown = {field.name: field.value() for field in form if field.value() is not None}

    response = client.post(
        add_page, {**shown, "user": reviewer.pk, "name": "Reviewer's phone", "confirmed": "on"}
    )

    assert response.status_code == 302
    device = TOTPDevice.objects.get(user=reviewer)
    config = client.get(reverse("admin:otp_totp_totpdevice_config", args=[device.pk]))
    assert reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk]) in config.content.decode()
    assert "issuer=Approval%20tracker" in device.config_url
    qrcode = client.get(reverse("admin:otp_totp_totpdevice_qrcode", args=[device.pk]))
    assert qrcode.status_code == 200
    assert qrcode["Content-Type"] == "image/svg+xml"

    client.logout()
    settings.REQUIRE_2FA_FOR_REVIEWERS = True
    assert sign_in(client, reviewer.username, otp_token=current_code(device)).status_code == 302
    assert reaches_the_admin(client)


def test_with_2fa_on_a_single_use_code_from_the_server_lets_a_superuser_in(client, two_factor):
    superuser = UserFactory(is_superuser=True)
    call_command("addstatictoken", superuser.username, token="rescue12", stdout=io.StringIO())

    assert sign_in(client, superuser.username, otp_token="rescue12").status_code == 302
    assert reaches_the_admin(client)
    client.logout()
    assert sign_in(client, superuser.username, otp_token="rescue12").status_code == 200


def test_with_2fa_on_a_reviewer_with_two_devices_chooses_one(client, reviewer, phone, two_factor):
    call_command("addstatictoken", reviewer.username, token="rescue12", stdout=io.StringIO())

    response = sign_in(client, reviewer.username, otp_token=current_code(phone))

    assert response.status_code == 200
    assert "Please select a device." in response.content.decode()
    assert 'name="otp_device"' in response.content.decode()
    response = sign_in(
        client, reviewer.username, otp_token=current_code(phone), otp_device=phone.persistent_id
    )
    assert response.status_code == 302
    assert reaches_the_admin(client)
