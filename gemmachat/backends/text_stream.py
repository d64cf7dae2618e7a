"""Token bytes to text pieces: whole UTF-8 characters only, and nothing of
a stop sequence ever leaves."""

import codecs


class StopAwareDecoder:
    def __init__(self, stops: list[str]):
        self._stops = [s for s in stops if s]
        self._utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self.stopped = False

    def feed(self, data: bytes) -> str:
        """Decode more bytes; return the text that is now safe to emit."""
        self._pending += self._utf8.decode(data)
        for stop in self._stops:
            index = self._pending.find(stop)
            if index >= 0:
                self.stopped = True
                text, self._pending = self._pending[:index], ""
                return text
        keep = self._held_back()
        cut = len(self._pending) - keep
        text, self._pending = self._pending[:cut], self._pending[cut:]
        return text

    def flush(self) -> str:
        """The rest, once generation ends without a stop sequence."""
        text = self._pending + self._utf8.decode(b"", final=True)
        self._pending = ""
        return text

    def _held_back(self) -> int:
        """Length of the longest tail that could still become a stop."""
        longest = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(self._pending)), 0, -1):
                if self._pending.endswith(stop[:size]):
                    longest = max(longest, size)
                    break
        return longest
