"""`python -m bot …` is the same as the `radar` console script."""

from bot.cli import main

raise SystemExit(main())
