"""Images in documents: upload, validation, access-checked serving, quotas and the sweep."""
