"""HTTP routes: one router per resource, kept thin (parse, authorize, call the dispatcher)."""
