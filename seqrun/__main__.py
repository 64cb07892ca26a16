from seqrun.cli import main

main()
