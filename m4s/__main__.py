from m4s.cli import main

main()
