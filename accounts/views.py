import segno
from django.contrib import auth, messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from . import notifications, services
from .forms import (
    AccountCreateForm,
    AccountUpdateForm,
    EnrolForm,
    PasswordChangeForm,
    RequestApprovalForm,
    RequestRefusalForm,
    SecondFactorForm,
    SignInForm,
)
from .models import AuthenticatorDevice
from .notifications import notifications_for
from .selectors import (
    accounts_awaiting_approval,
    accounts_managed_by,
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
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_in_check_password(
                request=request,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
            )
        except services.AccountLocked as locked:
            form.add_error(None, str(locked))
        else:
            if user is None:
                form.add_error(None, _("The username or the password is not right."))
            else:
                auth.login(request, user)
                request.session["after_second_factor"] = _safe_next(request, "")
                return redirect("accounts:second_factor")
    return render(
        request, "accounts/sign_in.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_POST
def sign_out(request):
    services.signed_out(user=request.user)
    auth.logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:sign_in")


def _signed_out_locked(request, locked):
    auth.logout(request)
    messages.error(request, str(locked))
    return redirect("accounts:sign_in")


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
        except services.AccountLocked as locked:
            return _signed_out_locked(request, locked)
        except services.SecondFactorThrottled as throttled:
            form.add_error("token", str(throttled))
        else:
            if device is None:
                form.add_error("token", _("The code is not right."))
            else:
                otp_login(request, device)
                target = request.session.pop("after_second_factor", "") or "home"
                return redirect(target)
    return render(request, "accounts/second_factor.html", {"form": form})


@sensitive_post_parameters("token")
def enrol(request):
    user = request.user
    if user.is_verified() or AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists():
        return redirect("accounts:second_factor")
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = services.authenticator_confirm(
                user=user, token=form.cleaned_data["token"]
            )
        except services.AccountLocked as locked:
            return _signed_out_locked(request, locked)
        except services.SecondFactorThrottled as throttled:
            form.add_error("token", str(throttled))
        except ValidationError as error:
            form.add_error("token", error)
        else:
            otp_login(request, device)
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


def profile(request):
    return render(
        request,
        "accounts/profile.html",
        {"backup_codes_remaining": services.backup_codes_remaining(user=request.user)},
    )


@require_POST
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
        except ValidationError as error:
            _add_service_errors(form, error, field_of_list_errors="new_password")
        else:
            update_session_auth_hash(request, request.user)
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
            return render(
                request,
                "accounts/manage_password.html",
                {"account": new.user, "password": new.temporary_password, "new": True},
            )
    return render(request, "accounts/manage_create.html", {"form": form})


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
        {"account": account, "form": form, "refusals": refusals_of(account)[:5]},
    )


@require_POST
def manage_action(request, pk, action):
    _require_manager(request)
    account = get_object_or_404(accounts_managed_by(request.user), pk=pk)
    if action == "deactivate":
        services.account_set_active(by=request.user, account=account, active=False)
        messages.success(request, _("The account has been deactivated."))
    elif action == "reactivate":
        services.account_set_active(by=request.user, account=account, active=True)
        messages.success(request, _("The account has been reactivated."))
    elif action == "reset-second-factor":
        services.account_second_factor_reset(by=request.user, account=account)
        messages.success(
            request,
            _("The second factor has been reset: the user enrols an app at next sign-in."),
        )
    elif action == "unlock":
        services.account_unlock(by=request.user, account=account)
        messages.success(request, _("The account has been unlocked."))
    elif action == "reset-password":
        password = services.account_password_reset(by=request.user, account=account)
        return render(
            request,
            "accounts/manage_password.html",
            {"account": account, "password": password, "new": False},
        )
    else:
        raise Http404
    return redirect("accounts:manage_detail", pk=account.pk)


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
