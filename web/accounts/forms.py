"""Sign-up and login forms; field names are the original's (name, username, email, …)."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from .credentials import clean_username, password_problem, username_problem


class SignupForm(FlaskForm):
    name = StringField(lazy_gettext("Name"), validators=[DataRequired(), Length(max=100)])
    username = StringField(
        lazy_gettext("Username"),
        filters=[clean_username],
        validators=[DataRequired(), Length(max=30)],
    )
    email = StringField(
        lazy_gettext("Email"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])
    confirm_password = PasswordField(
        lazy_gettext("Confirm password"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("The passwords do not match.")),
        ],
    )

    def validate_username(self, field: StringField) -> None:
        problem = username_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

    def validate_password(self, field: PasswordField) -> None:
        problem = password_problem(
            field.data or "", self.username.data or "", self.email.data or ""
        )
        if problem:
            raise ValidationError(problem)


class LoginForm(FlaskForm):
    username = StringField(
        lazy_gettext("Username"),
        filters=[clean_username],
        validators=[DataRequired(), Length(max=30)],
    )
    password = PasswordField(lazy_gettext("Password"), validators=[DataRequired(), Length(max=200)])


class CodeForm(FlaskForm):
    """The second step of a login: a 6-digit code from the app, or a recovery code."""

    code = StringField(
        lazy_gettext("Code"),
        filters=[lambda v: (v or "").strip()],
        validators=[DataRequired(), Length(max=40)],
    )
