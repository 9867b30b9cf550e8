"""Outgoing mail of a demo without a mail server: files that a tester can read."""

from django.core.mail.backends.filebased import EmailBackend


class ReadableFileBackend(EmailBackend):
    """Django's file backend, writing each e-mail as a person reads it.

    Django's own writes the MIME message, whose text is quoted-printable: an
    activation link breaks over lines and its "=" turns into "=3D", so a tester
    cannot copy it from var/mail/. Debug only: production sends through SMTP.
    """

    def write_message(self, message):
        text = f"To: {', '.join(message.to)}\nSubject: {message.subject}\n\n{message.body}\n"
        self.stream.write(f"{text}{'-' * 79}\n".encode())
