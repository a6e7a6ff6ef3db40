"""The bottom layer every other part uses: errors, settings, releases, downloads, progress."""
