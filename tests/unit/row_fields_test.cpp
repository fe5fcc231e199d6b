// RowFields (verify/row_fields.h) against a std::vector<std::string>: the same fields after random
// assignments of short, long, empty, self-referencing and same-length texts, marks that survive the
// block's growth, and copies that stay independent.
#include "verify/row_fields.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

using RowFields = auditpitr::verify::rows::RowFields<>;

namespace {

void require_same(const RowFields& fields, const std::vector<std::string>& reference,
                  const std::vector<uint8_t>& marks = {}) {
  REQUIRE(fields.size() == reference.size());
  for (std::size_t i = 0; i < reference.size(); ++i) REQUIRE(fields[i] == reference[i]);
  for (std::size_t i = 0; i < marks.size(); ++i) REQUIRE(fields.mark(i) == marks[i]);
}

}  // namespace

TEST_CASE("RowFields holds what a vector of strings holds through random assignments", "[row_fields]") {
  std::mt19937_64 random(3);
  auto text = [&]() {
    switch (random() % 4) {
      case 0: return std::string();
      case 1: return std::string("\\N");
      case 2: return std::string(1 + random() % 40, static_cast<char>('a' + random() % 26));
      default: return std::string(100 + random() % 300, static_cast<char>('A' + random() % 26));
    }
  };
  for (int row = 0; row < 300; ++row) {
    std::size_t count = 1 + random() % 14;
    std::vector<std::string> reference(count, "\\N");
    std::vector<uint8_t> marks(count, 7);
    RowFields fields(count, "\\N", 7, random() % 2 ? 0 : random() % 400);  // with room made ahead, or none
    require_same(fields, reference, marks);
    for (int step = 0; step < 60; ++step) {
      std::size_t i = random() % count;
      if (random() % 8 == 0) {  // a view of one of its own fields
        std::size_t from = random() % count;
        fields.assign(i, fields[from]);
        reference[i] = std::string(reference[from]);
      } else {
        // a text as long as the field's (copied over it in place), or any other
        std::string t =
            random() % 4 == 0 ? std::string(reference[i].size(), static_cast<char>('a' + random() % 26)) : text();
        fields.assign(i, t);
        reference[i] = t;
      }
      fields.mark(i) = marks[i] = static_cast<uint8_t>(step);
      require_same(fields, reference, marks);
    }
    RowFields copy = fields;
    require_same(copy, reference, marks);
    copy.assign(0, "changed in the copy only");
    copy.mark(0) = 99;
    require_same(fields, reference, marks);
    RowFields built(reference);
    require_same(built, reference);
  }
}

TEST_CASE("RowFields of a row's split fields", "[row_fields]") {
  std::vector<std::string_view> split = {"1", "", "\\N", "2026-12-03 14:05:00+00"};
  RowFields fields(split);
  REQUIRE(fields.size() == 4);
  CHECK(fields[0] == "1");
  CHECK(fields[1].empty());
  CHECK(fields[2] == "\\N");
  CHECK(fields[3] == "2026-12-03 14:05:00+00");
  CHECK(fields.mark(3) == 0);
  CHECK(RowFields().size() == 0);
}
