"""The identity proving journey on the web: the `identity` blueprint's pages (`views`), their forms (`forms`), and
the journey's use of the identity domain (`service`: running checks, keeping verified credentials, reuse,
conclusion). The domain itself, free of Flask, is `idp.identity`."""
