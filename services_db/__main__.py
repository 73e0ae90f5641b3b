"""`python -m services_db …`: the command line."""

from services_db.cli import main

raise SystemExit(main())
