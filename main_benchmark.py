"""IA_V3 benchmark: `python main_benchmark.py run|evaluate|rescore|selfcheck|report|compare|sweep|list`.

The command line lives in the `benchcli` package (arguments and output) over the facade
core.benchmark.service (the work); `python main_benchmark.py --help` lists the commands. `--lang auto|en|fr`
chooses the language it prints in (else the settings' language, else the locale).
"""

from __future__ import annotations

import sys

from benchcli.app import main

if __name__ == "__main__":
    sys.exit(main())
