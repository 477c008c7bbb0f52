/* The rate of a stage counted in pages (a dump's or a restore's "pages"),
 * measured where the progress messages arrive, and the time left at that
 * rate. ckptd sends a count at most every PROGRESS_INTERVAL_US; a rate
 * taken over less than RATE_MIN_US (about one interval) is noise, so counts are gathered until
 * that much time has passed, then folded into an exponential average
 * (RATE_WEIGHT of the newest), which a stall pulls down as it should.
 * Header only: ckptctl and the test tools built from rpc-client.o use it,
 * and tests/unit/test_rate.c. */
#ifndef CKPT_CLIENT_RATE_H
#define CKPT_CLIENT_RATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define RATE_MIN_US	90000u
#define RATE_WEIGHT	0.3

struct rate {
	uint64_t t0_us, done0;	/* the start of the interval being gathered */
	uint64_t done, total;	/* the last count */
	double per_s;		/* pages a second; 0 = not known yet */
	bool started;
};

/* One count, done of total, that arrived at now_us. A count that goes
 * back (a new stage of the same name) starts over. */
static inline void rate_add(struct rate *r, uint64_t now_us, uint64_t done, uint64_t total)
{
	if (!r->started || done < r->done0) {
		*r = (struct rate){ .t0_us = now_us, .done0 = done, .done = done,
				    .total = total, .started = true };
		return;
	}
	r->done = done;
	r->total = total;
	if (now_us - r->t0_us < RATE_MIN_US)
		return;
	double inst = (double)(done - r->done0) * 1e6 / (double)(now_us - r->t0_us);

	r->per_s = r->per_s > 0 ? RATE_WEIGHT * inst + (1 - RATE_WEIGHT) * r->per_s : inst;
	r->t0_us = now_us;
	r->done0 = done;
}

/* n bytes as "12.3 MiB" or "1.20 GiB". */
static inline void rate_bytes(double n, char *buf, size_t len)
{
	if (n >= 1024.0 * 1024 * 1024)
		snprintf(buf, len, "%.2f GiB", n / (1024.0 * 1024 * 1024));
	else
		snprintf(buf, len, "%.1f MiB", n / (1024.0 * 1024));
}

/* ", 48.2 MiB of 265.2 MiB, 85.1 MiB/s, 3 s left" (the rate and time left
 * once known; "1 min 05 s" past a minute) into buf. */
static inline void rate_format(const struct rate *r, long page_size, char *buf, size_t len)
{
	char done[32], total[32];
	size_t n;

	rate_bytes((double)r->done * page_size, done, sizeof(done));
	rate_bytes((double)r->total * page_size, total, sizeof(total));
	n = (size_t)snprintf(buf, len, ", %s of %s", done, total);
	if (r->per_s <= 0 || n >= len)
		return;
	double bps = r->per_s * page_size;
	uint64_t left = r->total > r->done ? (uint64_t)((r->total - r->done) / r->per_s + 0.5) : 0;

	n += (size_t)snprintf(buf + n, len - n, ", %.1f MiB/s", bps / (1024.0 * 1024));
	if (n >= len || r->done >= r->total)
		return;
	if (left >= 60)
		snprintf(buf + n, len - n, ", %llu min %02llu s left",
			 (unsigned long long)(left / 60), (unsigned long long)(left % 60));
	else
		snprintf(buf + n, len - n, ", %llu s left", (unsigned long long)left);
}

#endif
