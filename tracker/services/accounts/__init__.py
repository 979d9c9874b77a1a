"""Who someone is: users, password hashes, bearer tokens, and the rate limits on attempts."""
