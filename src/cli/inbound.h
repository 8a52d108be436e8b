/* The `parley inbound` / `parley receipt` subcommands: inbound traffic and delivery reports for tests,
 * sent to a running server (cli/inbound.c). */
#ifndef PARLEY_CLI_INBOUND_H
#define PARLEY_CLI_INBOUND_H

/* argv[0] is "inbound" or "receipt". Returns the exit status. */
int inbound_cli_main(int argc, char **argv);

#endif
