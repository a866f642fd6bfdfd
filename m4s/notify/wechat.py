"""WeChat official-account template messages (wechatpy), off by default (WECHAT_ENABLED).

An owner is reached on WeChat through their openid with the dealer's official account: bound by
the owner (the OAuth hand-shake from inside WeChat, `oauth_url` / `openid_from_code`) or by
staff in the back office (the owner's record). The access token is fetched with the app id and
secret and shared by every process through Django's cache (WeChat limits how often it may be
fetched). WECHAT_API_BASE_URL points the client elsewhere (a proxy; a test server).
"""

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

from .channels import Undeliverable, template_for, template_params
from .models import Message

logger = logging.getLogger("m4s.notify")
# errcodes after which retrying cannot help: the openid is not a follower, not valid, or the
# follower refused template messages; a template id that does not exist
PERMANENT = {40003, 40037, 43004, 43101, 47003}


def _storage() -> Any:
    from wechatpy.session import SessionStorage

    class CacheStorage(SessionStorage):
        """wechatpy's token store on Django's cache (Redis in production)."""

        def get(self, key: str, default: Any = None) -> Any:
            return cache.get(f"wechat:{key}", default)

        def set(self, key: str, value: Any, ttl: int | None = None) -> None:
            # expire a minute early so a token is never used at the edge of its life
            cache.set(f"wechat:{key}", value, max((ttl or 7200) - 60, 1))

        def delete(self, key: str) -> None:
            cache.delete(f"wechat:{key}")

    return CacheStorage()


def client() -> Any:
    from wechatpy import WeChatClient

    base = settings.WECHAT_API_BASE_URL.rstrip("/") + "/"

    class Client(WeChatClient):
        API_BASE_URL = base + "cgi-bin/"

        def fetch_access_token(self) -> Any:
            return self._fetch_access_token(
                url=base + "cgi-bin/token",
                params={
                    "grant_type": "client_credential",
                    "appid": self.appid,
                    "secret": self.secret,
                },
            )

    return Client(
        settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, session=_storage(), timeout=10
    )


def absolute(link: str) -> str | None:
    if not link:
        return None
    if link.startswith(("http://", "https://")):
        return link
    return f"{settings.PUBLIC_BASE_URL.rstrip('/')}{link}" if settings.PUBLIC_BASE_URL else None


class WeChatChannel:
    """One template message to the owner's bound openid. The template per message kind comes
    from WECHAT_TEMPLATES ({"default": {"id": ..., "params": ["title", "body"]}}): each named
    parameter becomes a data key {"value": ...}."""

    def send(self, message: Message) -> str:
        from wechatpy.exceptions import WeChatClientException

        if not settings.WECHAT_ENABLED:
            raise Undeliverable("WeChat is switched off (WECHAT_ENABLED)")
        openid = message.owner.wechat_openid if message.owner is not None else ""
        if not openid:
            raise Undeliverable("the owner has no WeChat openid bound")
        found = template_for(message.kind, settings.WECHAT_TEMPLATES)
        if found is None:
            raise Undeliverable(f"no WeChat template for message kind {message.kind!r}")
        template_id, names = found
        values = template_params(message)
        data = {name: {"value": str(values.get(name, ""))[:200]} for name in names}
        try:
            result = client().message.send_template(
                openid, template_id, data, url=absolute(message.link)
            )
        except WeChatClientException as exc:
            if exc.errcode in PERMANENT:
                raise Undeliverable(f"WeChat refused: {exc.errcode} {exc.errmsg}") from exc
            raise
        return str(result.get("msgid", "")) if isinstance(result, dict) else ""


# --- binding an owner's openid -----------------------------------------------------------------
def oauth_url(redirect_uri: str, state: str) -> str:
    """Where to send an owner inside WeChat to learn their openid (snsapi_base: no prompt)."""
    from urllib.parse import urlencode

    query = urlencode(
        {
            "appid": settings.WECHAT_APP_ID,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
        }
    )
    return f"{settings.WECHAT_OAUTH_URL}?{query}#wechat_redirect"


def openid_from_code(code: str) -> str:
    """Exchange the OAuth code WeChat hands back for the owner's openid."""
    from wechatpy.oauth import WeChatOAuth

    oauth = WeChatOAuth(settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET, redirect_uri="")
    oauth.API_BASE_URL = settings.WECHAT_API_BASE_URL.rstrip("/") + "/"
    result = oauth.fetch_access_token(code)
    return str(result.get("openid", ""))
