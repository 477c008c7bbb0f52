/* PLACEHOLDER: replaced by the client helper. */
int main(void) { return 1; }
