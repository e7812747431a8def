"""Albums and share links: showing chosen images to people, with or without an account."""
