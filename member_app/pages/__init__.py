"""The member's pages, one module per page group; `common` and `place` are what they share."""
