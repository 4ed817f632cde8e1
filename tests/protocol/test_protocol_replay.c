/* Anti-replay window: any order within the window is accepted once, duplicates and numbers
 * below the window are refused, a check changes nothing, jumps clear exactly the blocks the
 * window enters (a ring of any size, wrapping many times), and random programs answer exactly
 * as the list-based reference model (fuzz/replay_model.h) does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <cnv/protocol.h>

#include "../../fuzz/replay_model.h"
#include "cnv_test_util.h"

#define W CNV_REPLAY_WINDOW

static cnv_replay_window fresh(void) {
  cnv_replay_window w;
  memset(&w, 0xA5, sizeof w); /* init must not rely on a zeroed struct */
  assert_int_equal(cnv_replay_init(&w), CNV_OK);
  return w;
}

static void test_replay_init_and_errors(void **state) {
  (void)state;
  cnv_replay_window w = fresh();
  assert_int_equal(w.top, 0);
  for (unsigned i = 0; i < CNV_REPLAY_BLOCKS; i++) assert_int_equal(w.bits[i], 0);
  assert_int_equal(cnv_replay_init(NULL), CNV_EINVAL);
  assert_int_equal(cnv_replay_check(NULL, 1), CNV_EINVAL);
  assert_int_equal(cnv_replay_update(NULL, 1), CNV_EINVAL);
  /* 0 is never a sequence number, before and after anything was accepted. */
  assert_int_equal(cnv_replay_check(&w, 0), CNV_ERANGE);
  assert_int_equal(cnv_replay_update(&w, 0), CNV_ERANGE);
  assert_int_equal(cnv_replay_update(&w, 1), CNV_OK);
  assert_int_equal(cnv_replay_update(&w, 0), CNV_ERANGE);
  assert_int_equal(w.top, 1);
  /* Messages for the new codes. */
  assert_string_not_equal(cnv_strerror(CNV_EREPLAY_DUPLICATE), cnv_strerror(-99999));
  assert_string_not_equal(cnv_strerror(CNV_EREPLAY_TOO_OLD), cnv_strerror(-99999));
}

/* Every number of two windows' worth in a shuffled order: each accepted once. */
static void test_replay_any_order_within_window(void **state) {
  (void)state;
  uint64_t rng = 15;
  for (int round = 0; round < 50; round++) {
    cnv_replay_window w = fresh();
    uint64_t base = 1 + cnv_test_rand(&rng) % 100000;
    uint64_t order[W];
    for (uint64_t i = 0; i < W; i++) order[i] = base + i;
    for (uint64_t i = W - 1; i > 0; i--) {
      uint64_t j = cnv_test_rand(&rng) % (i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    /* The highest first: everything else is then below top and must still be accepted. */
    for (uint64_t i = 0; i < W; i++)
      if (order[i] == base + W - 1) {
        order[i] = order[0];
        order[0] = base + W - 1;
      }
    for (uint64_t i = 0; i < W; i++) {
      assert_int_equal(cnv_replay_check(&w, order[i]), CNV_OK);
      assert_int_equal(cnv_replay_update(&w, order[i]), CNV_OK);
      assert_int_equal(cnv_replay_check(&w, order[i]), CNV_EREPLAY_DUPLICATE);
    }
    assert_int_equal(w.top, base + W - 1);
    for (uint64_t s = base; s < base + W; s++) assert_int_equal(cnv_replay_check(&w, s), CNV_EREPLAY_DUPLICATE);
    assert_int_equal(cnv_replay_check(&w, base - 1), base - 1 ? CNV_EREPLAY_TOO_OLD : CNV_ERANGE);
    assert_int_equal(cnv_replay_check(&w, base + W), CNV_OK);
  }
}

static void test_replay_duplicate_and_check_changes_nothing(void **state) {
  (void)state;
  cnv_replay_window w = fresh();
  assert_int_equal(cnv_replay_update(&w, 10), CNV_OK);
  cnv_replay_window before = w;
  for (uint64_t s = 1; s < 2 * W; s++) {
    cnv_status st = cnv_replay_check(&w, s);
    assert_int_equal(st, s == 10 ? CNV_EREPLAY_DUPLICATE : CNV_OK);
  }
  assert_memory_equal(&before, &w, sizeof w);
  assert_int_equal(cnv_replay_update(&w, 10), CNV_EREPLAY_DUPLICATE);
  assert_memory_equal(&before, &w, sizeof w);
  assert_int_equal(cnv_replay_update(&w, 7), CNV_OK);
  assert_int_equal(cnv_replay_update(&w, 7), CNV_EREPLAY_DUPLICATE);
  assert_int_equal(w.top, 10);
}

/* The window's lower edge: top - (W - 1) is in, top - W is out, whether seen or not. */
static void test_replay_too_old_edge(void **state) {
  (void)state;
  cnv_replay_window w = fresh();
  uint64_t top = 5000;
  assert_int_equal(cnv_replay_update(&w, top - W - 3), CNV_OK);
  assert_int_equal(cnv_replay_update(&w, top), CNV_OK);
  assert_int_equal(cnv_replay_check(&w, top - (W - 1)), CNV_OK);
  assert_int_equal(cnv_replay_check(&w, top - W), CNV_EREPLAY_TOO_OLD);
  assert_int_equal(cnv_replay_check(&w, top - W - 3), CNV_EREPLAY_TOO_OLD); /* seen and old */
  assert_int_equal(cnv_replay_check(&w, 1), CNV_EREPLAY_TOO_OLD);
  cnv_replay_window before = w;
  assert_int_equal(cnv_replay_update(&w, top - W), CNV_EREPLAY_TOO_OLD);
  assert_memory_equal(&before, &w, sizeof w);
  assert_int_equal(cnv_replay_update(&w, top - (W - 1)), CNV_OK);
  /* Moving top by one pushes the edge number out. */
  assert_int_equal(cnv_replay_update(&w, top + 1), CNV_OK);
  assert_int_equal(cnv_replay_check(&w, top - (W - 1)), CNV_EREPLAY_TOO_OLD);
  /* Before the window is full, nothing above 0 is too old. */
  cnv_replay_window v = fresh();
  assert_int_equal(cnv_replay_update(&v, W - 1), CNV_OK);
  assert_int_equal(cnv_replay_check(&v, 1), CNV_OK);
  assert_int_equal(cnv_replay_update(&v, W), CNV_OK);
  assert_int_equal(cnv_replay_check(&v, 1), CNV_OK);
  assert_int_equal(cnv_replay_update(&v, W + 1), CNV_OK);
  assert_int_equal(cnv_replay_check(&v, 1), CNV_EREPLAY_TOO_OLD);
}

/* Jumps of every size from 1 to beyond the ring: the blocks entered start empty (numbers that
 * once had their slot are accepted), the blocks still in the window keep their bits. */
static void test_replay_jumps_clear_the_right_blocks(void **state) {
  (void)state;
  const uint64_t ring = (uint64_t)CNV_REPLAY_BLOCKS * 64;
  for (uint64_t jump = 1; jump <= 3 * ring; jump += (jump < 200 ? 1 : 61)) {
    for (uint64_t start = 3000; start < 3000 + 128; start += 37) {
      cnv_replay_window w = fresh();
      /* Fill the whole window below start. */
      for (uint64_t s = start - W + 1; s <= start; s++) assert_int_equal(cnv_replay_update(&w, s), CNV_OK);
      uint64_t top = start + jump;
      assert_int_equal(cnv_replay_update(&w, top), CNV_OK);
      for (uint64_t s = top > 3 * ring ? top - 3 * ring : 1; s <= top + 70; s++) {
        cnv_status want;
        if (s > top)
          want = CNV_OK;
        else if (top - s >= W)
          want = CNV_EREPLAY_TOO_OLD;
        else if (s == top || s <= start)
          want = CNV_EREPLAY_DUPLICATE;
        else
          want = CNV_OK;
        assert_int_equal(cnv_replay_check(&w, s), want);
      }
      /* Numbers whose slot the jump reused: one ring above the old ones, now accepted once. */
      for (uint64_t s = top - W + 1; s < top; s++) {
        if (s <= start) continue;
        assert_int_equal(cnv_replay_update(&w, s), CNV_OK);
        assert_int_equal(cnv_replay_update(&w, s), CNV_EREPLAY_DUPLICATE);
      }
    }
  }
}

/* Top goes round the ring many times in small steps with late arrivals behind it. */
static void test_replay_ring_wraps(void **state) {
  (void)state;
  cnv_replay_window w = fresh();
  rm_window *m = test_malloc(sizeof *m);
  rm_init(m);
  uint64_t top = 0;
  for (int i = 0; i < 20000; i++) {
    uint64_t ahead = top + 1 + (uint64_t)(i % 97);
    assert_int_equal(cnv_replay_update(&w, ahead), rm_update(m, ahead));
    top = ahead;
    uint64_t late = top > 40 ? top - 40 + (uint64_t)(i % 40) : top;
    assert_int_equal(cnv_replay_update(&w, late), rm_update(m, late));
  }
  assert_true(top > 100 * (uint64_t)CNV_REPLAY_BLOCKS * 64);
  for (uint64_t s = top - 2 * W; s <= top + 5; s++) assert_int_equal(cnv_replay_check(&w, s), rm_check(m, s));
  test_free(m);
}

/* Near the top of the number space: no overflow in the window rule. */
static void test_replay_near_uint64_max(void **state) {
  (void)state;
  cnv_replay_window w = fresh();
  assert_int_equal(cnv_replay_update(&w, UINT64_MAX - 5), CNV_OK);
  assert_int_equal(cnv_replay_update(&w, UINT64_MAX), CNV_OK);
  assert_int_equal(cnv_replay_check(&w, UINT64_MAX), CNV_EREPLAY_DUPLICATE);
  assert_int_equal(cnv_replay_check(&w, UINT64_MAX - 5), CNV_EREPLAY_DUPLICATE);
  assert_int_equal(cnv_replay_check(&w, UINT64_MAX - 4), CNV_OK);
  assert_int_equal(cnv_replay_check(&w, UINT64_MAX - (W - 1)), CNV_OK);
  assert_int_equal(cnv_replay_check(&w, UINT64_MAX - W), CNV_EREPLAY_TOO_OLD);
  assert_int_equal(cnv_replay_check(&w, 1), CNV_EREPLAY_TOO_OLD);
  /* A jump from 1 to the end of the space empties every slot. */
  cnv_replay_window v = fresh();
  assert_int_equal(cnv_replay_update(&v, 1), CNV_OK);
  assert_int_equal(cnv_replay_update(&v, UINT64_MAX), CNV_OK);
  for (unsigned i = 0; i < CNV_REPLAY_BLOCKS; i++)
    if (i != ((UINT64_MAX / 64) & (CNV_REPLAY_BLOCKS - 1))) assert_int_equal(v.bits[i], 0);
}

/* Random programs against the list-based model: thousands of cases, each a few hundred
 * operations mixing checks, updates, forward steps, late arrivals, jumps and absolutes. */
static void test_replay_matches_model(void **state) {
  (void)state;
  rm_window *m = test_malloc(sizeof *m);
  uint64_t rng = 0x6479;
  const uint64_t cases = cnv_test_iters(5000);
  for (uint64_t c = 0; c < cases; c++) {
    cnv_replay_window w = fresh();
    rm_init(m);
    uint64_t base = (c % 4 == 3) ? UINT64_MAX - 3000 : 0;
    if (base) {
      assert_int_equal(cnv_replay_update(&w, base), rm_update(m, base));
    }
    for (int op = 0; op < 300; op++) {
      uint64_t r = cnv_test_rand(&rng), seq;
      switch (r % 8) {
        case 0:
        case 1:
          seq = m->top + 1 + (r >> 8) % 4;
          break;
        case 2:
        case 3:
        case 4:
          seq = m->top - (r >> 8) % (W + 40);
          break;
        case 5:
          seq = m->top + (r >> 8) % (3 * 64 * CNV_REPLAY_BLOCKS);
          break;
        case 6:
          seq = m->top - (r >> 8) % 8;
          break;
        default:
          seq = (r >> 8) % 4 == 0 ? 0 : m->top + ((r >> 8) % 70) * 64;
          break;
      }
      if ((r >> 4) & 1) {
        assert_int_equal(cnv_replay_check(&w, seq), rm_check(m, seq));
      } else {
        cnv_replay_window before = w;
        cnv_status st = cnv_replay_update(&w, seq);
        assert_int_equal(st, rm_update(m, seq));
        if (st != CNV_OK) assert_memory_equal(&before, &w, sizeof w);
      }
      assert_int_equal(w.top, m->top);
    }
    uint64_t lo = m->top > W + 64 ? m->top - W - 64 : 0;
    for (uint64_t s = lo; s <= m->top && s >= lo; s++) assert_int_equal(cnv_replay_check(&w, s), rm_check(m, s));
  }
  test_free(m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_replay_init_and_errors),
      cmocka_unit_test(test_replay_any_order_within_window),
      cmocka_unit_test(test_replay_duplicate_and_check_changes_nothing),
      cmocka_unit_test(test_replay_too_old_edge),
      cmocka_unit_test(test_replay_jumps_clear_the_right_blocks),
      cmocka_unit_test(test_replay_ring_wraps),
      cmocka_unit_test(test_replay_near_uint64_max),
      cmocka_unit_test(test_replay_matches_model),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
