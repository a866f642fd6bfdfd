"""The demo's shared log-in facts. Passwords exist only here (demo data only)."""

DEMO_PASSWORD = "m4s-demo"  # noqa: S105  (demo data only)
OWNER_PHONES = [f"+86138000000{i:02d}" for i in range(1, 6)]
