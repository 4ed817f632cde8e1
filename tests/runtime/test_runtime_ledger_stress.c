/* The runtime's ledger under several submitters at once: every accepted ticket has exactly
 * one accepted ADMIT record and exactly one COMPLETE record, the ADMIT first, with the same
 * epoch; every denied submit has its ADMIT; every completion's ledger_index names its
 * COMPLETE record. Phase moves and revocations race the submits, so epochs move meanwhile. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cnv_test_util.h"
#include "runtime/rt_fixture.h"
#include "runtime/rt_ledger_fixture.h"

#define SUBMITTERS 4
#define PER_THREAD 4000u

/* One submitter's tickets (accepted) and the completions its callback saw. */
typedef struct sub {
  cnv_runtime *rt;
  uint32_t agent;
  uint32_t rounds;
  uint64_t *accepted; /* tickets, in submission order */
  uint32_t n_accepted;
  uint32_t n_denied;
  uint32_t n_full;    /* CNV_EFULL returns (recorded too), each tried again */
  pthread_mutex_t mu; /* guards the completions, written by workers */
  uint64_t *done_ticket, *done_index;
  uint32_t n_done;
} sub;

static void on_done(void *ctx, const cnv_runtime_completion *c) {
  sub *s = ctx;
  pthread_mutex_lock(&s->mu);
  if (s->n_done < s->rounds) {
    s->done_ticket[s->n_done] = c->ticket;
    s->done_index[s->n_done] = c->ledger_index;
  }
  s->n_done++;
  pthread_mutex_unlock(&s->mu);
}

static void *submitter(void *arg) {
  sub *s = arg;
  cnv_runtime_submit_opts o;
  memset(&o, 0, sizeof o);
  o.on_done = on_done;
  o.done_ctx = s;
  for (uint32_t i = 0; i < s->rounds; i++) {
    /* one in eight names no registered capability: denied, recorded */
    const char *line = i % 8 == 7 ? "t.none" : "t.read --n=1";
    o.low_priority = i % 2;
    uint64_t ticket = 0;
    cnv_status st;
    while ((st = cnv_runtime_submit_ex(s->rt, s->agent, line, strlen(line), &o, &ticket)) == CNV_EFULL) {
      s->n_full++;
      sched_yield();
    }
    if (st == CNV_OK) {
      s->accepted[s->n_accepted++] = ticket;
    } else {
      s->n_denied++; /* unknown capability, or the phase while moved below */
    }
  }
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* What the log says of one ticket. */
typedef struct seen {
  uint64_t ticket;
  uint64_t admit, complete; /* indexes, CNV_LEDGER_NONE when none */
  uint32_t n_admit, n_complete;
  uint64_t epoch;
} seen;

static seen *find(seen *v, size_t n, uint64_t ticket) {
  seen key = {.ticket = ticket};
  return bsearch(&key, v, n, sizeof *v, cmp_u64);
}

static void test_stress(void **state) {
  (void)state;
  rlf x;
  cnv_runtime_config cfg;
  rlf_config(&x, &cfg, 0, CNV_LEDGER_FULL_BLOCK, 0);
  cfg.workers = 3;
  rtf f;
  uint32_t agent = rlf_up_echo(&f, &cfg);
  uint32_t rounds = (uint32_t)cnv_test_iters(PER_THREAD);
  sub s[SUBMITTERS];
  pthread_t t[SUBMITTERS];
  for (int i = 0; i < SUBMITTERS; i++) {
    s[i] = (sub){.rt = f.rt, .agent = agent, .rounds = rounds};
    s[i].accepted = calloc(rounds, sizeof(uint64_t));
    s[i].done_ticket = calloc(rounds, sizeof(uint64_t));
    s[i].done_index = calloc(rounds, sizeof(uint64_t));
    assert_true(s[i].accepted && s[i].done_ticket && s[i].done_index);
    assert_int_equal(pthread_mutex_init(&s[i].mu, NULL), 0);
  }
  for (int i = 0; i < SUBMITTERS; i++) assert_int_equal(pthread_create(&t[i], NULL, submitter, &s[i]), 0);
  /* policy records racing the submits */
  uint8_t hash[CNV_DELEG_HASH_BYTES];
  for (int i = 0; i < 8; i++) {
    memset(hash, i + 1, sizeof hash);
    assert_int_equal(cnv_runtime_revoke(f.rt, hash), CNV_OK);
    assert_int_equal(cnv_runtime_transition(f.rt, CNV_PHASE_OPERATIONAL, CNV_PHASE_DEGRADED), CNV_OK);
    assert_int_equal(cnv_runtime_transition(f.rt, CNV_PHASE_DEGRADED, CNV_PHASE_RECOVERY), CNV_OK);
    assert_int_equal(cnv_runtime_transition(f.rt, CNV_PHASE_RECOVERY, CNV_PHASE_OPERATIONAL), CNV_OK);
  }
  for (int i = 0; i < SUBMITTERS; i++) assert_int_equal(pthread_join(t[i], NULL), 0);
  rlf_stop_unrefused(&f);
  rlf_close(&x);

  size_t n_acc = 0, n_den = 0, n_full = 0;
  for (int i = 0; i < SUBMITTERS; i++) {
    assert_int_equal(s[i].n_done, s[i].n_accepted);
    n_acc += s[i].n_accepted;
    n_den += s[i].n_denied;
    n_full += s[i].n_full;
  }
  assert_int_equal(n_acc + n_den, (size_t)rounds * SUBMITTERS);
  seen *v = calloc(n_acc, sizeof *v);
  assert_non_null(v);
  size_t k = 0;
  for (int i = 0; i < SUBMITTERS; i++) {
    for (uint32_t j = 0; j < s[i].n_accepted; j++) {
      v[k++] = (seen){.ticket = s[i].accepted[j], .admit = CNV_LEDGER_NONE, .complete = CNV_LEDGER_NONE};
    }
  }
  qsort(v, n_acc, sizeof *v, cmp_u64);
  for (size_t i = 1; i < n_acc; i++) assert_true(v[i].ticket != v[i - 1].ticket); /* unique over the run */

  cnv_ledger_reader *r = rlf_reader(&x);
  size_t denied_admits = 0, full_admits = 0;
  uint64_t n = cnv_ledger_reader_size(r);
  for (uint64_t i = 0; i < n; i++) {
    cnv_ledger_entry e = rlf_get(r, i);
    if (e.kind == CNV_LREC_ADMIT && e.status != CNV_OK) {
      if (e.status == CNV_EFULL) {
        full_admits++;
      } else {
        denied_admits++;
      }
      assert_int_equal(e.ticket, 0);
      continue;
    }
    if (e.kind != CNV_LREC_ADMIT && e.kind != CNV_LREC_COMPLETE) continue;
    seen *p = find(v, n_acc, e.ticket);
    assert_non_null(p);
    if (e.kind == CNV_LREC_ADMIT) {
      p->n_admit++;
      p->admit = i;
      p->epoch = e.epoch;
    } else {
      p->n_complete++;
      p->complete = i;
      assert_int_equal(p->n_admit, 1); /* its ADMIT came first */
      assert_int_equal(e.epoch, p->epoch);
      assert_int_equal(e.detail, CNV_DONE_RAN);
    }
  }
  cnv_ledger_reader_close(r);
  assert_int_equal(denied_admits, n_den);
  assert_int_equal(full_admits, n_full);
  for (size_t i = 0; i < n_acc; i++) {
    assert_int_equal(v[i].n_admit, 1);
    assert_int_equal(v[i].n_complete, 1);
  }
  for (int i = 0; i < SUBMITTERS; i++) {
    for (uint32_t j = 0; j < s[i].n_done; j++) {
      seen *p = find(v, n_acc, s[i].done_ticket[j]);
      assert_non_null(p);
      assert_int_equal(s[i].done_index[j], p->complete);
    }
    pthread_mutex_destroy(&s[i].mu);
    free(s[i].accepted);
    free(s[i].done_ticket);
    free(s[i].done_index);
  }
  free(v);
  rlf_remove(&x);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_stress),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
