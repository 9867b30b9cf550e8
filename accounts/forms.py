from django import forms
from django.utils.translation import gettext_lazy as _

from encryption import limits

from .models import Institution
from .roles import Role


class SignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=limits.PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=24,
        help_text=_("The 6-digit code of your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false"}
        ),
    )


class EnrolForm(forms.Form):
    token = forms.CharField(
        label=_("Code from the app"),
        max_length=8,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=limits.PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class NewPasswordForm(forms.Form):
    """A new password, typed twice; the validators run in the service."""

    new_password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=limits.PASSWORD,
        help_text=_("At least 12 characters; not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        max_length=limits.PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("new_password") != data.get("new_password_again"):
            self.add_error("new_password_again", _("The two new passwords differ."))
        return data


class PasswordChangeForm(NewPasswordForm):
    old_password = forms.CharField(
        label=_("Current password"),
        strip=False,
        max_length=limits.PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    field_order = ["old_password", "new_password", "new_password_again"]


class ActivationForm(NewPasswordForm):
    """The first password of an account, chosen with its activation link."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password"].widget.attrs["autofocus"] = True


class ReasonForm(forms.Form):
    """Why an administrator deactivates or resets an account (kept encrypted)."""

    reason = forms.CharField(
        label=_("Reason"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The gender-equality officer reads it. Do not write details of any case."),
    )


MANAGEABLE_ROLES = [
    (value, label) for value, label in Role.choices if value != Role.NATIONAL_STATISTICIAN
]


class AccountForm(forms.Form):
    """An account of the administrator's municipality; the institution list is theirs only."""

    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    roles = forms.MultipleChoiceField(
        label=_("Roles"), choices=MANAGEABLE_ROLES, widget=forms.CheckboxSelectMultiple
    )
    institution = forms.ModelChoiceField(
        label=_("Institution"),
        queryset=Institution.objects.none(),
        required=False,
        help_text=_("Only for members of the referral mechanism."),
    )

    def __init__(self, *args, institutions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = institutions


class AccountCreateForm(AccountForm):
    username = forms.RegexField(
        label=_("Username"),
        max_length=150,
        regex=r"^[a-z0-9._-]+$",
        error_messages={
            "invalid": _("Use small letters without accents, digits, dots, dashes or underscores.")
        },
    )
    field_order = ["username", "first_name", "last_name", "email", "roles", "institution"]


class AccountUpdateForm(AccountForm):
    version = forms.IntegerField(widget=forms.HiddenInput)


class RequestApprovalForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)


class RequestRefusalForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Why do you refuse?"),
        max_length=limits.REASON,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept encrypted; the administrators of the municipality can read it."),
    )
