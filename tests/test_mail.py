"""The demo's mail without a mail server: files in which a tester can read a link."""

from django.core.mail import EmailMessage

from config.mail import ReadableFileBackend


def test_an_email_file_of_the_demo_holds_the_link_as_sent(tmp_path):
    link = "http://127.0.0.1:8000/accounts/activate/?t=Ab-cD_ef=" + "x" * 80
    message = EmailMessage(
        subject="Mbrojtje: vendosni fjalëkalimin tuaj",
        body=f"Një llogari në Mbrojtje ju pret. Hapni këtë lidhje:\n{link}\n",
        to=["arta@example.invalid"],
    )

    ReadableFileBackend(file_path=str(tmp_path)).send_messages([message])

    (written,) = tmp_path.iterdir()
    text = written.read_text()
    assert link in text.splitlines()
    assert "Subject: Mbrojtje: vendosni fjalëkalimin tuaj" in text
    assert "To: arta@example.invalid" in text
