"""Strings of Django and of the packages the interface shows, missing from their own
Albanian catalogues (Django 6.1 renamed the blank choice to "- Select an option -", and
django-simple-history and django-otp ship no Albanian). Listed here so that makemessages
keeps them in locale/sq, whose translations come first (LOCALE_PATHS). Never imported.

When a package upgrade adds a string the interface shows, add it here and to the .po;
tests/test_i18n.py checks that every string listed here is translated.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

SINGULAR = [
    gettext_noop("- Select an option -"),  # Django
    gettext_noop("“%(value)s” value must be a float."),  # Django
    gettext_noop("Floating point number"),  # Django
    gettext_noop("“%(value)s” is not a valid binary value."),  # Django
    gettext_noop("No %s matches the given query."),  # Django
    gettext_noop("Email"),  # Django
    gettext_noop("version"),  # Django
    gettext_noop("work factor"),  # Django
    gettext_noop("checksum"),  # Django
    gettext_noop('The app "%s" could not be found.'),  # Django admin
    gettext_noop("Run"),  # Django admin
    gettext_noop("Breadcrumbs"),  # Django admin
    gettext_noop("Filter by %(field_name)s"),  # Django admin
    gettext_noop("Pagination %(name)s entries"),  # Django admin
    gettext_noop("Pagination %(name)s"),  # Django admin
    gettext_noop("Logout"),  # Django admin
    gettext_noop("View history: %s"),  # simple_history
    gettext_noop('The %(name)s "%(obj)s" was changed successfully.'),  # simple_history
    gettext_noop("You may edit it again below"),  # simple_history
    gettext_noop("Revert %s"),  # simple_history
    gettext_noop("Created"),  # simple_history
    gettext_noop("Changed"),  # simple_history
    gettext_noop("Deleted"),  # simple_history
    gettext_noop("Deleted %(type_name)s"),  # simple_history
    gettext_noop(
        "Choose a date from the list below to revert to a previous version of this object."
    ),  # simple_history
    gettext_noop("This object doesn't have a change history."),  # simple_history
    gettext_noop("View %(verbose_name)s"),  # simple_history
    gettext_noop("Revert %(verbose_name)s"),  # simple_history
    gettext_noop(
        "Press the 'Revert' button below to revert to this version of the object."
    ),  # simple_history
    gettext_noop("Press the 'Change History' button below to edit the history."),  # simple_history
    gettext_noop("Changed by"),  # simple_history
    gettext_noop("Change reason"),  # simple_history
    gettext_noop("Changes"),  # simple_history
    gettext_noop("Revert"),  # simple_history
    gettext_noop("Change History"),  # simple_history
    gettext_noop("Please enter your OTP token."),  # django_otp
    gettext_noop("Error generating challenge: {0}"),  # django_otp
    gettext_noop("The selected OTP device is not interactive"),  # django_otp
    gettext_noop("OTP Challenge: {0}"),  # django_otp
    gettext_noop("Invalid token. Please make sure you have entered it correctly."),  # django_otp
    gettext_noop("Verification of the token is currently disabled"),  # django_otp
    gettext_noop("Please select a device."),  # django_otp
    gettext_noop(
        "Token generation cooldown period has not expired yet. Next generation allowed %s."
    ),  # django_otp
    gettext_noop("Token generation is not allowed at this time"),  # django_otp
    gettext_noop("sent by email"),  # django_otp
    gettext_noop("Please correct the errors below."),  # django_otp
    gettext_noop("OTP Device:"),  # django_otp
    gettext_noop("OTP Token:"),  # django_otp
    gettext_noop("Forgotten your password or username?"),  # django_otp
    gettext_noop("Get OTP Challenge"),  # django_otp
]
PLURAL = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "count",
    ),  # Django
    ngettext_lazy(
        "…and %(count)d more object.", "…and %(count)d more objects.", "count"
    ),  # Django admin
    ngettext_lazy(
        "Verification temporarily disabled because of %(failure_count)d failed attempt, please try again soon.",  # noqa: E501
        "Verification temporarily disabled because of %(failure_count)d failed attempts, please try again soon.",  # noqa: E501
        "count",
    ),  # django_otp
]
