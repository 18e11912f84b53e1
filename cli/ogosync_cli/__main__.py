import sys

from ogosync_cli.main import main

sys.exit(main())
