from remedy.commands.app import main

main()
