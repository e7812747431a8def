"""Upload and delete forms; field names are the original's (file, visibility, filename)."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, RadioField
from wtforms.validators import DataRequired, InputRequired

VISIBILITY_CHOICES = [("public", "Public (every signed-in user)"), ("private", "Private (only me)")]


class UploadForm(FlaskForm):
    file = MultipleFileField("Images", validators=[InputRequired(message="Choose a file.")])
    visibility = RadioField(
        "Visibility",
        choices=VISIBILITY_CHOICES,
        default="public",
        validators=[InputRequired(message="Choose public or private.")],
    )


class DeleteForm(FlaskForm):
    filename = HiddenField(validators=[DataRequired()])
    visibility = HiddenField(validators=[DataRequired()])


class EmptyForm(FlaskForm):
    """A CSRF token alone, for button-only actions."""
