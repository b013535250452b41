from incidentlog.cli import main

main()
