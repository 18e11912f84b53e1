"""The web console: server-rendered pages for merchants and the warehouse's operators, signed in with Cognito."""
