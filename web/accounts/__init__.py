"""Accounts: sign-up, login, logout, server-side sessions, the account page, the
username and password rules, the admin role, and removing an account. Views live in
``routes``; password reset, tokens and two-factor login belong here too."""
