// RowMap (src/util/row_map.h) against std::unordered_map: the same answers to random inserts and
// lookups over a few hundred thousand keys, every entry reached once by iteration, and entries
// that never move while the index grows.
#include "src/util/row_map.h"

#include <catch2/catch.hpp>
#include <random>
#include <unordered_map>
#include <unordered_set>

using auditpitr::RowMap;

TEST_CASE("RowMap answers as std::unordered_map does, and its entries never move", "[row_map]") {
  std::mt19937_64 random(11);
  RowMap<std::string> map;
  std::unordered_map<std::string, std::string> reference;
  std::unordered_map<std::string, const std::string*> address;
  auto key = [&]() {  // short and long keys, many of them repeated
    uint64_t n = random() % 300000;
    return n % 7 == 0 ? std::to_string(n) + "\tlong part of a composite key " + std::to_string(n * 31)
                      : std::to_string(n);
  };
  for (int i = 0; i < 600000; ++i) {
    std::string k = key();
    if (i % 3 == 0) {
      CHECK(map.count(k) == reference.count(k));
      auto found = map.find(k);
      REQUIRE((found == map.end()) == !reference.count(k));
      if (found != map.end()) REQUIRE(found->second == reference.at(k));
      continue;
    }
    auto [at, inserted] = map.try_emplace(k);
    REQUIRE(inserted == reference.try_emplace(k).second);
    REQUIRE(at->first == k);
    if (inserted) {
      at->second = "value of " + k;
      reference[k] = at->second;
      address[k] = &at->second;
    }
    REQUIRE(&map.at(k) == address.at(k));
  }
  REQUIRE(map.size() == reference.size());
  std::unordered_set<std::string> seen;
  for (const auto& [k, v] : map) {
    REQUIRE(seen.insert(k).second);
    REQUIRE(v == reference.at(k));
    REQUIRE(&v == address.at(k));
  }
  CHECK(seen.size() == reference.size());
  CHECK_THROWS_AS(map.at("absent"), std::out_of_range);
  RowMap<std::string> moved = std::move(map);
  CHECK(moved.size() == reference.size());
  CHECK(map.empty());  // NOLINT: a moved-from map is empty
}

TEST_CASE("RowMap's staged look-ahead finds a key's value through its first slot, or nothing", "[row_map]") {
  RowMap<std::string> map;
  CHECK(map.probable(map.first_slot(RowMap<std::string>::hash_of("1")), RowMap<std::string>::hash_of("1")) ==
        nullptr);  // no index yet
  for (int i = 0; i < 100000; ++i) map.try_emplace(std::to_string(i)).first->second = "row " + std::to_string(i);
  std::size_t found = 0, wrong = 0;
  for (int i = 0; i < 200000; ++i) {  // half of them present
    std::string key = std::to_string(i);
    uint64_t hash = RowMap<std::string>::hash_of(key);
    const std::string* value = map.probable(map.first_slot(hash), hash);
    if (!value) continue;
    ++found;
    if (*value != "row " + key) ++wrong;  // another key of the same slot and tag: possible, rare
  }
  // most present keys sit in their first slot (the index is at most half full); absent ones
  // almost never match a tag
  CHECK(found > 60000);
  CHECK(found < 110000);
  CHECK(wrong < 100);
}
