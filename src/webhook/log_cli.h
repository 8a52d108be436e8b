#ifndef PARLEY_LOG_CLI_H
#define PARLEY_LOG_CLI_H

/* `parley webhooks log …`: argv[0] is "webhooks". Returns the exit status. */
int webhooks_cli_main(int argc, char **argv);

#endif
