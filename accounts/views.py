import segno
from django.contrib import auth, messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from audit.models import Action
from audit.services import record

from . import notifications, recent_auth, services, throttling
from .forms import (
    AccountCreateForm,
    AccountUpdateForm,
    ActivationForm,
    EnrolForm,
    PasswordChangeForm,
    PasswordConfirmForm,
    ReasonForm,
    RequestApprovalForm,
    RequestRefusalForm,
    SecondFactorForm,
    SignInForm,
)
from .middleware import SlidingSessionMiddleware
from .models import AuthenticatorDevice
from .notifications import notifications_for
from .recent_auth import recent_password_required
from .selectors import (
    accounts_awaiting_approval,
    accounts_managed_by,
    activation_link_latest,
    administrative_act_of_event,
    approval_queue,
    institutions_of,
    may_approve_requests,
    refusals_of,
)


def _safe_next(request, default="home"):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@sensitive_post_parameters("password")
def sign_in(request):
    if request.user.is_authenticated and request.user.is_verified():
        return redirect("home")
    form = SignInForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in_check_password(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except services.TooManyAttempts as waiting:
            form.add_error(None, str(waiting))
            status = 429
        else:
            if user is None:
                form.add_error(None, _("The username or the password is not right."))
            else:
                auth.login(request, user)
                SlidingSessionMiddleware.signed_in(request)
                recent_auth.password_checked(request)
                request.session["after_second_factor"] = _safe_next(request, "")
                return redirect("accounts:second_factor")
    return render(
        request,
        "accounts/sign_in.html",
        {"form": form, "next": request.GET.get("next", "")},
        status=status,
    )


@require_POST
def sign_out(request):
    services.signed_out(user=request.user)
    auth.logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:sign_in")


def _verified(request, device) -> None:
    otp_login(request, device)
    # A new key for the fully signed-in session: a key seen before the second
    # factor (or planted in the browser) is worth nothing afterwards.
    request.session.cycle_key()


@sensitive_post_parameters("token")
def second_factor(request):
    user = request.user
    if user.is_verified():
        return redirect("home")
    if not AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:enrol")
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.second_factor_verify(user=user, token=form.cleaned_data["token"])
        except services.TooManyAttempts as waiting:
            form.add_error("token", str(waiting))
        else:
            if device is None:
                form.add_error("token", _("The code is not right."))
            else:
                _verified(request, device)
                target = request.session.pop("after_second_factor", "") or "home"
                return redirect(target)
    return render(request, "accounts/second_factor.html", {"form": form})


@sensitive_post_parameters("token")
def enrol(request):
    user = request.user
    if user.is_verified() or AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:second_factor")
    if not recent_auth.password_recent(request, minutes=recent_auth.ENROLMENT_MINUTES):
        # After an administrator's reset, a session whose password was typed
        # hours ago lands here: whoever sits at that browser must not enrol
        # their own phone without the password.
        auth.logout(request)
        messages.info(request, _("For your safety, sign in again to set up the app."))
        return redirect("accounts:sign_in")
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.authenticator_confirm(
                user=user, token=form.cleaned_data["token"]
            )
        except services.TooManyAttempts as waiting:
            form.add_error("token", str(waiting))
        except ValidationError as error:
            form.add_error("token", error)
        else:
            _verified(request, device)
            # Shown once in this response, never stored in clear.
            return render(request, "accounts/backup_codes.html", {"codes": codes, "new": True})
    device = services.authenticator_pending(user=user)
    key = device.base32_key
    return render(
        request,
        "accounts/enrol.html",
        {
            "form": form,
            "qr_svg": segno.make(device.config_url(), error="m").svg_inline(
                scale=5, dark="#111", omitsize=True, title=_("QR code for the authenticator app")
            ),
            "key_groups": [key[i : i + 4] for i in range(0, len(key), 4)],
        },
    )


# --- Activation with a link ----------------------------------------------------------

ACTIVATION_SESSION_KEY = "activation_link"


def _no_referrer(response: HttpResponse) -> HttpResponse:
    # The address bar may still hold the token: no page loaded from here may pass it on.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _link_not_valid(request) -> HttpResponse:
    # One page, one status for an unknown, used, withdrawn or expired link: a visitor
    # learns nothing about which tokens exist.
    request.session.pop(ACTIVATION_SESSION_KEY, None)
    return _no_referrer(render(request, "accounts/activation_invalid.html", status=410))


@sensitive_post_parameters("new_password", "new_password_again")
def activate(request):
    """The link of the e-mail: choose a password, then enrol a new authenticator.

    The token comes in the query string (logged neither by nginx nor gunicorn),
    is exchanged at once for the link's id in the session, and the browser is
    sent to the same page without it (docs/security.md).
    """
    token = request.GET.get("t")
    if token is not None:
        link = services.activation_link_find(token)
        if link is None:
            return _link_not_valid(request)
        if request.user.is_authenticated:
            # Whoever was signed in on this browser is not the person of the link.
            auth.logout(request)
        request.session[ACTIVATION_SESSION_KEY] = link.pk
        return _no_referrer(redirect("accounts:activate"))
    link = services.activation_link_get(request.session.get(ACTIVATION_SESSION_KEY))
    if link is None:
        return _link_not_valid(request)
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            account = services.account_activate(
                link=link, password=form.cleaned_data["new_password"]
            )
        except services.LinkUnusable:
            return _link_not_valid(request)
        except ValidationError as error:
            form.add_error("new_password", error)
        else:
            # The password just chosen is the first factor, as if typed at sign-in.
            auth.login(request, account, backend="accounts.backends.PasswordBackend")
            SlidingSessionMiddleware.signed_in(request)
            recent_auth.password_checked(request)
            services.signed_in(user=account, factor="activation_link")
            request.session.pop(ACTIVATION_SESSION_KEY, None)
            return redirect("accounts:enrol")
    return _no_referrer(
        render(request, "accounts/activate.html", {"form": form, "account": link.account})
    )


@sensitive_post_parameters("password")
def password_confirm(request):
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_confirm(user=request.user, password=form.cleaned_data["password"])
        except services.TooManyAttempts as waiting:
            form.add_error(None, str(waiting))
        except ValidationError as error:
            _add_service_errors(form, error)
        else:
            recent_auth.password_checked(request)
            return redirect(_safe_next(request, "accounts:profile"))
    return render(
        request,
        "accounts/password_confirm.html",
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
    )


def profile(request):
    return render(
        request,
        "accounts/profile.html",
        {"backup_codes_remaining": services.backup_codes_remaining(user=request.user)},
    )


@require_POST
@recent_password_required(come_back_to="accounts:profile")
def backup_codes_new(request):
    codes = services.backup_codes_replace(user=request.user)
    return render(request, "accounts/backup_codes.html", {"codes": codes, "new": False})


@sensitive_post_parameters("old_password", "new_password", "new_password_again")
def password_change(request):
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.password_change(
                user=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except services.TooManyAttempts as waiting:
            form.add_error(None, str(waiting))
        except ValidationError as error:
            _add_service_errors(form, error, field_of_list_errors="new_password")
        else:
            update_session_auth_hash(request, request.user)
            recent_auth.password_checked(request)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(request, "accounts/password_change.html", {"form": form})


def _add_service_errors(form, error: ValidationError, field_of_list_errors=None):
    """Errors by field go to their fields; a plain list goes to the field named."""
    form.add_error(None if hasattr(error, "error_dict") else field_of_list_errors, error)


# --- Account management -----------------------------------------------------------


def _require_manager(request):
    # A municipality too: a superuser has every permission but manages no municipality.
    user = request.user
    if not user.has_perm("accounts.manage_accounts") or user.municipality_id is None:
        raise Http404


def manage_list(request):
    _require_manager(request)
    accounts = accounts_managed_by(request.user)
    return render(request, "accounts/manage_list.html", {"accounts": accounts})


def manage_create(request):
    _require_manager(request)
    form = AccountCreateForm(request.POST or None, institutions=institutions_of(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            new = services.account_create(
                by=request.user,
                username=data["username"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                roles=set(data["roles"]),
                institution=data["institution"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _created_message(new))
            return redirect("accounts:manage_detail", pk=new.user.pk)
    return render(request, "accounts/manage_create.html", {"form": form})


def _created_message(new) -> str:
    if new.activation_link is None:
        return _(
            "The account has been created. The activation link will be sent to its address "
            "when another administrator approves its roles."
        )
    return _("The account has been created. The activation link was sent to %(address)s.") % {
        "address": new.activation_link.sent_to
    }


def manage_detail(request, pk):
    _require_manager(request)
    account = get_object_or_404(accounts_managed_by(request.user), pk=pk)
    initial = {
        "first_name": account.first_name,
        "last_name": account.last_name,
        "email": account.email,
        # Waiting roles too: saving the form keeps them requested.
        "roles": sorted(account.roles | account.pending_roles),
        "institution": account.institution_id,
        "version": account.version,
    }
    form = AccountUpdateForm(
        request.POST or None, initial=initial, institutions=institutions_of(request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.account_update(
                by=request.user,
                account=account,
                version=data["version"],
                first_name=data["first_name"],
                last_name=data["last_name"],
                email=data["email"],
                roles=set(data["roles"]),
                institution=data["institution"],
            )
        except (ValidationError, services.StaleEdit) as error:
            form.add_error(None, error if isinstance(error, ValidationError) else str(error))
        else:
            messages.success(request, _("The account has been saved."))
            return redirect("accounts:manage_detail", pk=account.pk)
    return render(
        request,
        "accounts/manage_detail.html",
        {
            "account": account,
            "form": form,
            "link": activation_link_latest(account),
            "sign_in_delayed": throttling.account_delayed(account.get_username()),
            "refusals": refusals_of(account)[:5],
        },
    )


@require_POST
def manage_action(request, pk, action):
    """The acts that give no access and take none away: one button each."""
    _require_manager(request)
    account = get_object_or_404(accounts_managed_by(request.user), pk=pk)
    if action == "reactivate":
        services.account_reactivate(by=request.user, account=account)
        messages.success(request, _("The account has been reactivated."))
    elif action == "unlock":
        services.account_unlock(by=request.user, account=account)
        messages.success(request, _("The account has been unlocked."))
    elif action == "send-link":
        try:
            link = services.activation_link_resend(by=request.user, account=account)
        except services.LinkNotSent as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _sent_message(link))
    else:
        raise Http404
    return redirect("accounts:manage_detail", pk=account.pk)


def _sent_message(link) -> str:
    return _("An activation link was sent to %(address)s.") % {"address": link.sent_to}


# Acts that take access away or hand it to an address: a page says what will
# happen and asks why, never a single click.
CONFIRMED_ACTIONS = ("deactivate", "reset")


@sensitive_post_parameters("reason")
def manage_confirm(request, pk, action):
    _require_manager(request)
    if action not in CONFIRMED_ACTIONS:
        raise Http404
    account = get_object_or_404(accounts_managed_by(request.user), pk=pk)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if action == "deactivate":
                services.account_deactivate(by=request.user, account=account, reason=reason)
                done = _("The account has been deactivated.")
            else:
                link = services.account_credentials_reset(
                    by=request.user, account=account, reason=reason
                )
                done = _(
                    "The password and the second factor have been reset and every session "
                    "of the account has ended. "
                ) + _sent_message(link)
        except ValidationError as error:
            _add_service_errors(form, error, field_of_list_errors="reason")
        except services.LinkNotSent as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, done)
            return redirect("accounts:manage_detail", pk=account.pk)
    return render(
        request,
        "accounts/manage_confirm.html",
        {"account": account, "action": action, "form": form},
    )


def administrative_act(request, event_pk):
    """The reason of an administrative act, for the gender-equality officer who reads
    the event that names it; reading it is recorded too."""
    act = administrative_act_of_event(request.user, event_pk)
    if act is None:
        raise Http404
    record(
        Action.AUDIT_VIEWED,
        object_type="accounts.administrativeact",
        object_id=act.pk,
        municipality_id=act.account.municipality_id,
    )
    return render(request, "accounts/administrative_act.html", {"act": act})


# --- Approval by a second person ----------------------------------------------------


def _require_approver(request):
    if not may_approve_requests(request.user):
        raise Http404


def manage_approvals(request):
    """What waits for this user's approval, and apart what they requested themselves."""
    _require_approver(request)
    return _approvals_page(request)


def _approvals_page(request, failed=None):
    """`failed` is (account id, bound refusal form) after a refusal that could not be saved."""
    to_decide, own_requests = approval_queue(request.user)
    rows = []
    for waiting in to_decide:
        refusal_form = RequestRefusalForm(
            prefix=str(waiting.account.pk), initial={"version": waiting.account.version}
        )
        if failed and failed[0] == waiting.account.pk:
            refusal_form = failed[1]
        rows.append({"request": waiting, "refusal_form": refusal_form})
    return render(
        request,
        "accounts/manage_approvals.html",
        {"rows": rows, "own_requests": own_requests, "now": timezone.now()},
    )


def _decision_failed(request, error: Exception) -> None:
    messages.error(request, str(error) or _("You may not decide on this request."))


@require_POST
def manage_approve(request, pk):
    _require_approver(request)
    account = get_object_or_404(accounts_awaiting_approval(request.user), pk=pk)
    form = RequestApprovalForm(request.POST, prefix=str(account.pk))
    if not form.is_valid():
        messages.error(request, _("Reload the page and try again."))
        return redirect("accounts:manage_approvals")
    try:
        services.role_requests_approve(
            by=request.user, account=account, version=form.cleaned_data["version"]
        )
    except (services.ApprovalNotAllowed, services.StaleEdit, PermissionDenied) as error:
        _decision_failed(request, error)
    else:
        messages.success(
            request,
            _("Approved: what waited on %(username)s is now in force.")
            % {"username": account.username},
        )
    return redirect("accounts:manage_approvals")


@require_POST
def manage_refuse(request, pk):
    _require_approver(request)
    account = get_object_or_404(accounts_awaiting_approval(request.user), pk=pk)
    form = RequestRefusalForm(request.POST, prefix=str(account.pk))
    if not form.is_valid():
        return _approvals_page(request, failed=(account.pk, form))
    try:
        services.role_requests_refuse(
            by=request.user,
            account=account,
            version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _approvals_page(request, failed=(account.pk, form))
    except (services.ApprovalNotAllowed, services.StaleEdit, PermissionDenied) as error:
        _decision_failed(request, error)
    else:
        messages.success(
            request,
            _("Refused: nothing that waited on %(username)s was put in force.")
            % {"username": account.username},
        )
    return redirect("accounts:manage_approvals")


# --- Notifications ------------------------------------------------------------------

NOTIFICATIONS_PAGE_SIZE = 25


def notification_list(request):
    page = Paginator(notifications_for(request.user), NOTIFICATIONS_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "accounts/notifications.html", {"page": page})


def notification_open(request, pk):
    """Mark the notification read and go to the page it is about (only inside Mbrojtje)."""
    notification = get_object_or_404(notifications_for(request.user), pk=pk)
    if not notifications.is_inside_mbrojtje(notification.target_url):
        raise Http404
    notifications.mark_read(by=request.user, notification=notification)
    return redirect(notification.target_url)


@require_POST
def notifications_mark_all_read(request):
    notifications.mark_all_read(by=request.user)
    messages.success(request, _("All notifications are marked read."))
    return redirect("accounts:notifications")
