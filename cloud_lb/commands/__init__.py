"""One module per `cloud-lb` subcommand; each has `add_arguments(parser)` and `run(args)`."""
