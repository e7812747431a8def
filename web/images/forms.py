"""The upload form; field names are the original's (file, visibility).

The views read the fields themselves (several files, one bad file never stops the
others); the form carries the CSRF token and the errors shown beside each field.
"""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import StringField

from ..models import PUBLIC


class UploadForm(FlaskForm):
    file = MultipleFileField(lazy_gettext("Images"))
    visibility = StringField(lazy_gettext("Visibility"), default=PUBLIC)
