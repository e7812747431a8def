"""Admin views: thin wrappers that parse the request, call the services and render.

Everyone else gets the 404 page for every address under /admin, whatever the method:
the guard runs before the CSRF check, and before a wrong method could answer 405 and
so reveal that the address exists. Every state change is a POST carrying the CSRF
token, and is written to the audit log by the service layer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import audit as audit_log
from .. import jobs
from ..accounts import invitations, passwords, roles, tokens, two_factor
from ..accounts.registration import get_user
from ..albums import albums
from ..i18n import N_
from ..images import quotas, regenerate, trash
from ..images.access import get_image
from ..images.removal import delete_image as remove_image
from ..integers import parse_id
from ..models import Job, User
from ..paging import INVALID_CURSOR
from ..rules import RuleError
from ..viewers import is_admin
from . import actions, directory

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.before_app_request
def _hide_from_non_admins() -> Response | None:
    """404 for anything under /admin unless an admin asks (any method, any sub-path); an
    admin who must turn on two-factor login first (REQUIRE_2FA_FOR_ADMINS) is sent to do so."""
    prefix = bp.url_prefix or "/admin"
    if not (request.path == prefix or request.path.startswith(prefix + "/")):
        return None
    if not is_admin(current_user):
        abort(404)
    if two_factor.required_first(current_user):
        flash(gettext("Turn on two-factor login before you use the admin panel."), "info")
        return redirect(url_for("two_factor.page"))
    return None


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The same check on each view, so that a view stays protected wherever it is mounted."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not is_admin(current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _int_arg(name: str) -> int | None:
    """An id in the query string (a page link's ``before``); None when absent or empty; a
    value that is not an id is a broken page link (400) rather than a silent first page."""
    value = request.args.get(name)
    if not value:
        return None
    number = parse_id(value)
    if number is None:
        raise RuleError(INVALID_CURSOR)
    return number


def _back_to_users() -> Response:
    return redirect(url_for("admin.users"), code=303)


@bp.route("", methods=["GET"])
@admin_required
def users() -> str:
    page = directory.list_users(request.args.get("q", ""), request.args.get("after"))
    return render_template("admin/users.html", page=page, admins=roles.admin_count())


@bp.route("/users/<int:user_id>", methods=["GET"])
@admin_required
def user(user_id: int) -> str:
    return _render_user(get_user(user_id))


def _render_user(person: User, quota_error: str | None = None) -> str:
    standing = quotas.standing(person)
    return render_template(
        "admin/user.html",
        person=person,
        images=directory.images_of(person, _int_arg("before")),
        count=standing.count,
        used=standing.used,
        standing=standing,
        default_quota_mb=current_app.config["DEFAULT_QUOTA_MB"],
        quota_error=quota_error,
        tokens=tokens.tokens_of(person),
        albums=albums.albums_of(person),
    )


@bp.route("/users/<int:user_id>/quota", methods=["POST"])
@admin_required
def set_quota(user_id: int) -> Response | tuple[str, int]:
    person = get_user(user_id)
    try:
        quotas.set_quota(
            current_user, person, request.form.get("quota", ""), request.form.get("quota_mb", "")
        )
    except RuleError as exc:
        return _render_user(person, str(exc)), exc.status
    flash(gettext("The storage quota of %(name)s is saved.", name=person.username), "success")
    return redirect(url_for("admin.user", user_id=person.id), code=303)


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@admin_required
def reset_two_factor(user_id: int) -> Response:
    person = get_user(user_id)
    if two_factor.reset(current_user, person):
        flash(
            gettext(
                "Two-factor login of %(name)s is off; they can turn it on again.",
                name=person.username,
            ),
            "success",
        )
    else:
        flash(gettext("%(name)s has no two-factor login to reset.", name=person.username), "info")
    return redirect(url_for("admin.user", user_id=person.id), code=303)


@bp.route("/users/<int:user_id>/temporary-password", methods=["POST"])
@admin_required
def temporary_password(user_id: int) -> tuple[str, int]:
    """Give the user a temporary password and show it on this answer only."""
    person = get_user(user_id)
    try:
        temporary = passwords.set_temporary(current_user, person)
    except RuleError as exc:
        flash(str(exc), "danger")  # only the admin's own account
        return user(user_id), exc.status
    page = render_template("admin/temporary_password.html", person=person, password=temporary)
    return page, 200


@bp.route("/users/<int:user_id>/delete", methods=["GET"])
@admin_required
def confirm_delete_user(user_id: int) -> str:
    person = get_user(user_id)
    return render_template(
        "admin/confirm_delete_user.html", person=person, summary=directory.footprint(person)
    )


@bp.route("/users/<int:user_id>/delete", methods=["POST"])
@admin_required
def delete_user(user_id: int) -> Response:
    person = get_user(user_id)
    outcome = actions.delete_user(current_user, person)
    if isinstance(outcome, Job):
        flash(
            gettext(
                "The account %(name)s is closed; its images are being deleted in the background.",
                name=person.username,
            ),
            "info",
        )
        return _to_jobs()
    if outcome:
        flash(
            gettext("Deleted user %(name)s with their images and comments.", name=person.username),
            "success",
        )
    else:
        flash(gettext(actions.LEFT_FOR_FSCK).format(person.username), "warning")
    return _back_to_users()


def _to_jobs() -> Response:
    return redirect(url_for("admin.jobs_page"), code=303)


@bp.route("/jobs", methods=["GET"])
@admin_required
def jobs_page() -> str:
    return render_template(
        "admin/jobs.html", jobs=jobs.recent(), threshold=current_app.config["JOB_THRESHOLD"]
    )


@bp.route("/jobs/renditions", methods=["POST"])
@admin_required
def regenerate_renditions() -> Response:
    """Make the missing previews and thumbnails (``which=all``: every one) in a job."""
    regenerate.start(current_user, everything=request.form.get("which") == "all")
    flash(gettext("The previews and thumbnails are being made in the background."), "info")
    return _to_jobs()


# change -> (service, message when done, message when there was nothing to change)
ROLE_CHANGES = {
    "promote": (
        roles.promote,
        N_("%(name)s is now an admin."),
        N_("%(name)s is already an admin."),
    ),
    "demote": (
        roles.demote,
        N_("%(name)s is no longer an admin."),
        N_("%(name)s was not an admin."),
    ),
}


@bp.route("/users/<int:user_id>/<any(promote, demote):change>", methods=["POST"])
@admin_required
def change_role(user_id: int, change: str) -> Response:
    person = get_user(user_id)
    service, done, unchanged = ROLE_CHANGES[change]
    if service(current_user, person):
        flash(gettext(done, name=person.username), "success")
    else:
        flash(gettext(unchanged, name=person.username), "info")
    if person.id == current_user.id and not person.is_admin:
        return redirect(url_for("gallery.index"), code=303)  # the panel is closed to them now
    return _back_to_users()


@bp.route("/images/<int:image_id>/delete", methods=["POST"])
@admin_required
def delete_image(image_id: int) -> Response:
    """To the owner's trash, as "Delete" on a gallery (for good when TRASH_DAYS is 0)."""
    image = get_image(image_id, current_user)
    owner = image.owner.username
    if trash.discard(current_user, image):  # audited there, as from any page
        flash(trash.moved_to_the_trash_of(image), "success")
    else:
        flash(
            gettext("Deleted “%(name)s” of %(owner)s.", name=image.filename, owner=owner), "success"
        )
    return redirect(url_for("admin.user", user_id=image.owner_id), code=303)


@bp.route("/images/<int:image_id>/delete-for-good", methods=["GET"])
@admin_required
def confirm_purge_image(image_id: int) -> str:
    image = get_image(image_id, current_user)
    return render_template("admin/confirm_purge_image.html", image=image)


@bp.route("/images/<int:image_id>/delete-for-good", methods=["POST"])
@admin_required
def purge_image(image_id: int) -> Response:
    """Delete an image for good at once, without the trash."""
    image = get_image(image_id, current_user)
    owner = image.owner.username
    remove_image(current_user, image)  # audited there, as from any page
    done = gettext("Deleted “%(name)s” of %(owner)s for good.", name=image.filename, owner=owner)
    flash(done, "success")
    return redirect(url_for("admin.user", user_id=image.owner_id), code=303)


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@admin_required
def revoke_token(token_id: int) -> Response:
    token = tokens.revoke(current_user, token_id)  # audited there
    owner = token.user.username
    flash(
        gettext("Revoked the token “%(name)s” of %(owner)s.", name=token.name, owner=owner),
        "success",
    )
    return redirect(url_for("admin.user", user_id=token.user_id), code=303)


@bp.route("/audit", methods=["GET"])
@admin_required
def audit() -> str:
    return render_template("admin/audit.html", log=audit_log.entries(_int_arg("before")))


@bp.route("/reset", methods=["GET", "POST"])
@admin_required
def reset() -> tuple[str, int] | Response:
    if request.method == "GET":
        return render_template("admin/reset.html", word=actions.RESET_WORD, error=None), 200
    try:
        result = actions.reset(current_user, request.form.get("confirm", ""))
    except RuleError as exc:
        page = render_template("admin/reset.html", word=actions.RESET_WORD, error=str(exc))
        return page, exc.status
    if isinstance(result, Job):
        flash(gettext("The reset runs in the background; its progress is shown below."), "info")
        return _to_jobs()
    done, *unfinished = result.summary()
    flash(done, "success")
    for line in unfinished:
        flash(line, "warning")
    return _back_to_users()


@bp.route("/invitations", methods=["GET", "POST"])
@admin_required
def invitations_page() -> tuple[str, int]:
    """The invitations, and the form that makes one (its link is shown once)."""
    made, error, status = None, None, 200
    if request.method == "POST":
        form = request.form
        try:
            made = invitations.create(
                current_user, form.get("email", ""), form.get("days", ""), form.get("uses", "")
            )
        except RuleError as exc:
            error, status = str(exc), exc.status
    link = url_for("auth.signin", invite=made.token, _external=True) if made else None
    return _render_invitations(link=link, error=error, form=request.form if error else {}), status


def _render_invitations(**shown: Any) -> str:
    shown.setdefault("form", {})
    return render_template(
        "admin/invitations.html",
        mode=invitations.mode(),
        items=[(i, invitations.status(i)) for i in invitations.all_invitations()],
        **shown,
    )


@bp.route("/users/new", methods=["POST"])
@admin_required
def create_user() -> tuple[str, int]:
    """Make an account whatever REGISTRATION says; its temporary password is shown once."""
    form = request.form
    try:
        person, temporary = passwords.create_account(
            current_user, form.get("username", ""), form.get("email", ""), form.get("name", "")
        )
    except RuleError as exc:
        return _render_invitations(account_error=str(exc), account_form=form), exc.status
    page = render_template("admin/temporary_password.html", person=person, password=temporary)
    return page, 200


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@admin_required
def revoke_invitation(invitation_id: int) -> Response:
    invitation = invitations.revoke(current_user, invitation_id)
    flash(
        gettext("Revoked invitation %(id)s. Its link no longer works.", id=invitation.id),
        "success",
    )
    return redirect(url_for("admin.invitations_page"), code=303)
