"""In-app and email notifications: shared with you, mentioned, replies, suggestions decided."""
