from miniprogram_api.report_cli import main

raise SystemExit(main())
