/* Promela model of the MPMC queue's slot/sequence protocol (src/hotpath/queue.c):
 * 2 producers x 2 values, 2 consumers, capacity 2, so slots are reused and the queue fills.
 * Every step reads or writes at most one shared word of the real protocol (a CAS is one
 * step); the local decisions that follow a read are folded into its atomic block, which
 * changes nothing others can observe. Checked exhaustively by spin:
 *   - the pop that claims position p returns the value pushed at p: nothing is lost or
 *     duplicated and, as claims follow position order, each producer's values stay FIFO;
 *   - CNV_EEMPTY never hides a push that completed before the pop began, and CNV_EFULL is
 *     reported only if the queue held CAP records at some moment of the call (the checks
 *     of pop_sees_empty / push_sees_full for claimed-but-unfinished slots);
 *   - CNV_EAGAIN (a pop finding the oldest slot claimed but unwritten) is answered only
 *     when the push of that position has claimed it and had not completed when the pop
 *     began. (queue.c reads the slot once more after its pause before these checks; that
 *     first read decides nothing, so the model starts at the second.)
 *   - at the end every value was consumed exactly once and tail == head == 4. */
#define CAP 2
#define PER 2
#define TOTAL 4
#define NPOS 8

byte seq[CAP];
byte data[CAP];
byte tail = 0;
byte head = 0;
byte pushed_at[NPOS]; /* ghost: value claimed at each position */
bit seen[TOTAL + 1];  /* ghost: values already popped */
byte consumed = 0;    /* ghost: values popped so far */
byte push_done = 0;   /* ghost: 1 + highest position of a completed push */
byte pop_done = 0;    /* ghost: 1 + highest position of a completed pop */
byte done_mask = 0;   /* ghost: bit p set once the push of position p completed */

proctype producer(byte id) {
  byte k = 0, pos, inv_pop;
  do
  :: k == PER -> break
  :: k < PER ->
    atomic { inv_pop = pop_done; pos = tail }
read_seq:
    atomic {
      if
      :: seq[pos % CAP] == pos -> goto cas
      :: seq[pos % CAP] > pos -> goto reload
      :: else -> goto check_tail
      fi
    }
reload:
    pos = tail;
    goto read_seq;
cas:
    atomic {
      if
      :: tail == pos -> tail = pos + 1; pushed_at[pos] = id * PER + k + 1; goto claimed
      :: else -> pos = tail; goto read_seq
      fi
    }
check_tail: /* push_sees_full: tail, then head */
    atomic {
      if
      :: tail != pos -> pos = tail; goto read_seq
      :: else -> skip
      fi
    }
    atomic {
      if
      :: pos - head >= CAP -> assert(tail - inv_pop >= CAP); inv_pop = 0; goto next /* EFULL */
      :: else -> goto read_seq /* a pop of this slot is still copying out */
      fi
    }
claimed:
    data[pos % CAP] = id * PER + k + 1;
    atomic {
      seq[pos % CAP] = pos + 1;
      if :: push_done < pos + 1 -> push_done = pos + 1 :: else -> skip fi;
      done_mask = done_mask | (1 << pos);
      k++; inv_pop = 0; pos = 0
    }
next:
    skip
  od
}

proctype consumer() {
  byte pos, v, inv_push, inv_done;
  do
  :: consumed == TOTAL -> break
  :: consumed < TOTAL ->
    atomic { inv_push = push_done; inv_done = done_mask; pos = head }
read_seq:
    atomic {
      if
      :: seq[pos % CAP] == pos + 1 -> goto cas
      :: seq[pos % CAP] > pos + 1 -> goto reload
      :: else -> goto check_head
      fi
    }
reload:
    pos = head;
    goto read_seq;
cas:
    atomic {
      if
      :: head == pos -> head = pos + 1; goto claimed
      :: else -> pos = head; goto read_seq
      fi
    }
check_head: /* pop_sees_empty: head, then tail */
    atomic {
      if
      :: head != pos -> pos = head; goto read_seq
      :: else -> skip
      fi
    }
    atomic {
      if
      :: tail == pos -> assert(head >= inv_push); inv_push = 0; inv_done = 0; goto next /* EEMPTY */
      :: else -> /* EAGAIN: a push of this slot is still copying in */
        assert(pushed_at[pos] != 0 && (inv_done & (1 << pos)) == 0); inv_push = 0; inv_done = 0; pos = 0; goto next
      fi
    }
claimed:
    v = data[pos % CAP];
    atomic {
      seq[pos % CAP] = pos + CAP;
      assert(v == pushed_at[pos] && v >= 1 && v <= TOTAL && !seen[v]);
      seen[v] = 1;
      consumed++;
      if :: pop_done < pos + 1 -> pop_done = pos + 1 :: else -> skip fi;
      v = 0; inv_push = 0; inv_done = 0; pos = 0
    }
next:
    skip
  od
}

init {
  byte i;
  atomic {
    for (i : 0 .. CAP - 1) { seq[i] = i }
    run producer(0); run producer(1); run consumer(); run consumer()
  }
  (_nr_pr == 1);
  assert(consumed == TOTAL && tail == TOTAL && head == TOTAL);
  for (i : 1 .. TOTAL) { assert(seen[i]) }
}
