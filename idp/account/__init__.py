"""The citizen's own account: what they used, what happened, and the changes they can make."""
