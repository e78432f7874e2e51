from jobdefs.cli import main

main()
