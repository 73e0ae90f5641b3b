"""`python -m services_db …`: the command line."""

from services_db.commands import main

raise SystemExit(main())
