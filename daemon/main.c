/* PLACEHOLDER: replaced by the daemon helper. */
int main(void) { return 1; }
