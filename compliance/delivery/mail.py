"""Django's SMTP backend, keeping what the mail server said about each recipient.

smtplib's sendmail() succeeds when the server accepted at least one recipient and returns those it
refused (e.g. 550 no such mailbox, 451 try later); Django's backend drops that answer, so a refused
recipient would pass for delivered. This backend keeps it on the message as `refused_recipients`
({address: "code message"}), which compliance.delivery.outbox records per recipient.
"""

from django.core.mail.backends import smtp


class EmailBackend(smtp.EmailBackend):
    def _send(self, email_message) -> bool:
        email_message.refused_recipients = {}
        if self.connection is None:
            return super()._send(email_message)
        sendmail = self.connection.sendmail

        def keeping_refusals(*args, **kwargs):
            refused = sendmail(*args, **kwargs)
            email_message.refused_recipients = {
                address: f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
                for address, (code, reply) in (refused or {}).items()
            }
            return refused

        self.connection.sendmail = keeping_refusals
        try:
            return super()._send(email_message)
        finally:
            del self.connection.sendmail
