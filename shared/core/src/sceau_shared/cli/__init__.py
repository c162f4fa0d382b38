"""The ``sceau`` operators' command: a dispatcher whose subcommands packages register."""
