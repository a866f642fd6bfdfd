"""`m4s loyalty-check`: prove that every member's balance equals their ledger."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from m4s.loyalty.ledger import check_member
from m4s.loyalty.models import Member


class Command(BaseCommand):
    help = "Check every member's balance, pending points and lots against the ledger."

    def handle(self, *args, **options):
        members = Member.objects.unscoped().order_by("pk")
        bad = 0
        for member in tqdm(
            members.iterator(),
            total=members.count(),
            disable=options["verbosity"] < 1,
            desc="members",
            unit="m",
        ):
            problems = check_member(member)
            if problems:
                bad += 1
                self.stderr.write(f"member {member.code}: " + "; ".join(problems))
        if bad:
            raise CommandError(f"{bad} member(s) inconsistent")
        self.stdout.write(
            self.style.SUCCESS(f"{members.count()} members: balances equal the ledger")
        )
