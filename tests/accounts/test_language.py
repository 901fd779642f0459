"""The language follows the user's choice, kept on the user, else the browser's Accept-Language."""

import pytest

from accounts.models import Preference

DASHBOARD = "/admin/"


def html_lang(response) -> str:
    page = response.content.decode()
    return page.split('<html lang="')[1].split('"')[0]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("zh-hk", "zh-hant"), ("zh-tw", "zh-hant"), ("zh-hant", "zh-hant"), ("zh-cn", "zh-hans"), ("en-GB", "en")],
)
def test_without_a_choice_the_browsers_language_is_spoken(client, auditor_user, accept, expected):
    client.force_login(auditor_user)

    assert html_lang(client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE=accept)) == expected


def test_the_switcher_keeps_the_choice_on_the_user_whatever_the_browser_asks(client, auditor_user):
    client.force_login(auditor_user)
    page = client.get(DASHBOARD).content.decode()
    assert 'id="language-switcher"' in page and 'value="zh-hans"' in page

    response = client.post("/account/language/", {"language": "zh-hans", "next": "/admin/compliance/annualcap/"})

    assert (response.status_code, response["Location"]) == (302, "/admin/compliance/annualcap/")
    assert Preference.objects.get(user=auditor_user).language == "zh-hans"
    assert html_lang(client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")) == "zh-hans"


def test_a_new_session_takes_the_users_choice_at_sign_in(client, auditor_user):
    Preference.objects.create(user=auditor_user, language="zh-hant")
    auditor_user.set_password("a-long-password-for-tests")
    auditor_user.save()

    client.post("/admin/login/", {"username": auditor_user.username, "password": "a-long-password-for-tests"})

    assert html_lang(client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="en")) == "zh-hant"


def test_choosing_the_browsers_language_again_clears_the_choice(client, auditor_user):
    client.force_login(auditor_user)
    client.post("/account/language/", {"language": "zh-hant"})

    client.post("/account/language/", {"language": ""})

    assert Preference.objects.get(user=auditor_user).language == ""
    assert html_lang(client.get(DASHBOARD, HTTP_ACCEPT_LANGUAGE="zh-cn")) == "zh-hans"


@pytest.mark.parametrize(
    ("data", "status"), [({"language": "fr"}, 400), ({"language": "zh-hans", "next": "https://evil.example/"}, 302)]
)
def test_an_unknown_language_is_refused_and_no_redirect_leaves_the_site(client, auditor_user, data, status):
    client.force_login(auditor_user)

    response = client.post("/account/language/", data)

    assert response.status_code == status
    if status == 302:
        assert response["Location"] == "/admin/"
    else:
        assert not Preference.objects.exists()


def test_a_visitor_not_signed_in_cannot_choose(client, db):
    assert client.post("/account/language/", {"language": "zh-hant"}).status_code == 400
    assert not Preference.objects.exists()
