from compliance.demo import load_demo
from transactions.audit import AuditedCommand


class Command(AuditedCommand):
    help = "Load the 2025 Xiaomi framework agreement, its caps and a small demo history (idempotent)."

    def handle(self, *args, **options) -> None:
        created = load_demo()
        if any(created.values()):
            summary = ", ".join(f"{count} {kind}" for kind, count in created.items())
            self.stdout.write(self.style.SUCCESS(f"Demo loaded: {summary}."))
        else:
            self.stdout.write("Demo already loaded; nothing changed.")
