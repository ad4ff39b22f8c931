#include "etl/sim/randomuser_data.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>
#include <boost/json.hpp>

#include "etl/sim/dataset.hpp"
#include "etl/sim/digest.hpp"
#include "etl/sim/upstream.hpp"

namespace etl {
namespace {

namespace bj = boost::json;
using list = std::span<const std::string_view>;

enum : std::uint64_t { salt_user = 0x52616e646f6d0001ULL, salt_seed };

constexpr std::array<std::string_view, 21> nats = {"AU", "BR", "CA", "CH", "DE", "DK", "ES",
                                                   "FI", "FR", "GB", "IE", "IN", "IR", "MX",
                                                   "NL", "NO", "NZ", "RS", "TR", "UA", "US"};

// A postcode: an int in [lo, hi], or a string from `pattern` ('#' digit, 'A' capital letter).
struct postcode_rule {
  int lo = 10000;
  int hi = 99999;
  std::array<std::string_view, 2> patterns{};  // set: a string postcode
};

struct nat_data {
  std::string_view country;
  list male;
  list female;
  list last;
  list cities;
  list states;
  list streets;
  std::array<std::string_view, 2> phones;  // phone and cell patterns
  std::string_view lettered_phone;         // set: some numbers hold letters (CA, UA)
  postcode_rule postcode;
  std::string_view id_name;     // "" with a null value for IR, NZ, TR, UA
  std::string_view id_pattern;  // '#' digit, 'A' letter
  list ascii_male = {};         // IR: the names as emails spell them
  list ascii_female = {};
  list ascii_last = {};
};

#define NAMES(...)                                         \
  [] {                                                     \
    static constexpr std::string_view v[] = {__VA_ARGS__}; \
    return list(v);                                        \
  }()

const std::array<nat_data, 21>& nat_table() {
  static const std::array<nat_data, 21> table = {{
      {"Australia",
       NAMES("Jack", "Liam", "Noah", "Oscar"),
       NAMES("Chloe", "Ella", "Isla", "Mia"),
       NAMES("Smith", "Wilson", "Taylor", "Brown"),
       NAMES("Hobart", "Geelong", "Cairns"),
       NAMES("Tasmania", "Victoria", "Queensland"),
       NAMES("Hamilton Ave", "Mockingbird Ln", "Parker Rd "),
       {"0#-####-####", "04##-###-###"},
       {},
       {200, 9999},
       "TFN",
       "#########"},
      {"Brazil",
       NAMES("Tomé", "Caetano", "João", "Otávio"),
       NAMES("Lívia", "Lúcia", "Antonella", "Fabiana"),
       NAMES("da Silva", "Araújo", "Gonçalves", "Peixoto"),
       NAMES("São Luís", "Maringá", "Taboão da Serra"),
       NAMES("Paraná", "Ceará", "Pará"),
       NAMES("Rua São Jorge", "Rua Dois", "Rua Carlos Gomes "),
       {"(##) ####-####", "(##) ####-####"},
       {},
       {},
       "CPF",
       "###.###.###-##"},
      {"Canada",
       NAMES("Liam", "Owen", "Félix", "Logan"),
       NAMES("Léa", "Emma", "Chloe", "Maya"),
       NAMES("Roy", "Gagnon", "Wong", "Martin"),
       NAMES("Sherbrooke", "Selkirk", "Delta"),
       NAMES("Québec", "Manitoba", "Nunavut"),
       NAMES("Dufferin St", "Victoria Ave", "Balmoral St "),
       {"###-###-####", "###-###-####"},
       "A## A##-####",
       {0, 0, {"A#A #A#", "A#A #A#"}},
       "SIN",
       "#########"},
      {"Switzerland",
       NAMES("Nils", "Roger", "Leon", "Gérard"),
       NAMES("Nadine", "Anaïs", "Lena", "Mélanie"),
       NAMES("Muller", "Lefebvre", "Roux", "Perrin"),
       NAMES("Zug", "Lausanne", "Thun"),
       NAMES("Zug", "Vaud", "Bern"),
       NAMES("Rue Dumenge", "Rue du Bât-d'Argent", "Place de L'Abbé-Basset "),
       {"07# ### ## ##", "07# ### ## ##"},
       {},
       {1000, 9999},
       "AVS",
       "756.####.####.##"},
      {"Germany",
       NAMES("Jürgen", "Kai", "Jörg", "Lutz"),
       NAMES("Jessika", "Ilse", "Käthe", "Marlis"),
       NAMES("Schäfer", "Müller", "Seidel", "Krüger"),
       NAMES("Remscheid", "Völklingen", "Bad Tölz"),
       NAMES("Bayern", "Thüringen", "Niedersachsen"),
       NAMES("Lindenstraße", "Mühlenweg", "Gartenstraße "),
       {"0###-#######", "01##-#######"},
       {},
       {},
       "SVNR",
       "## ###### A ###"},
      {"Denmark",
       NAMES("Frederik", "Mads", "Søren", "Emil"),
       NAMES("Ida", "Freja", "Maja", "Signe"),
       NAMES("Jensen", "Nielsen", "Poulsen", "Sørensen"),
       NAMES("København", "Aarhus", "Ærøskøbing"),
       NAMES("Hovedstaden", "Syddanmark", "Midtjylland"),
       NAMES("Søndergade", "Vestergade", "Skovvej "),
       {"########", "########"},
       {},
       {},
       "CPR",
       "######-####"},
      {"Spain",
       NAMES("José", "Ángel", "Rafael", "Iván"),
       NAMES("Lucía", "Nuria", "Inés", "Sonia"),
       NAMES("García", "Núñez", "de la Cruz", "Ibáñez"),
       NAMES("Málaga", "Alcalá de Henares", "Vigo"),
       NAMES("Andalucía", "Galicia", "Aragón"),
       NAMES("Calle de Alcalá", "Avenida de Castilla", "Calle del Barquillo "),
       {"9##-###-###", "6##-###-###"},
       {},
       {},
       "DNI",
       "########-A"},
      {"Finland",
       NAMES("Eetu", "Onni", "Väinö", "Aaro"),
       NAMES("Aino", "Siiri", "Iida", "Ella"),
       NAMES("Mäkinen", "Heikkinen", "Korhonen", "Kärkkäinen"),
       NAMES("Jyväskylä", "Hämeenlinna", "Kemi"),
       NAMES("Uusimaa", "Pirkanmaa", "Lappi"),
       NAMES("Hämeenkatu", "Pispalan Valtatie", "Esplanadi "),
       {"0#-###-###", "04#-###-##-##"},
       {},
       {},
       "HETU",
       "######-###A"},
      {"France",
       NAMES("Théo", "Noé", "Mathéo", "Lucas"),
       NAMES("Léna", "Chloé", "Zoé", "Inès"),
       NAMES("Lefèvre", "Garnier", "Dubois", "Mercier"),
       NAMES("Nîmes", "Besançon", "Orléans"),
       NAMES("Haute-Saône", "Hérault", "Finistère"),
       NAMES("Rue de L'Église", "Place du 8 Février 1962", "Rue Barrier "),
       {"0#-##-##-##-##", "06-##-##-##-##"},
       {},
       {},
       "INSEE",
       "1##0###########"},
      {"United Kingdom",
       NAMES("Harry", "Jack", "Dylan", "Owen"),
       NAMES("Amelia", "Ruby", "Sophie", "Megan"),
       NAMES("Smith", "Hughes", "O'Connor", "Patel"),
       NAMES("Worcester", "St Albans", "Salford"),
       NAMES("Devon", "Lothian", "Powys"),
       NAMES("Church Road", "Queen Street", "Mill Lane "),
       {"0####-######", "07###-######"},
       {},
       {0, 0, {"A# #AA", "A#A #AA"}},
       "NINO",
       "AA ## ## ## A"},
      {"Ireland",
       NAMES("Seán", "Oisín", "Cian", "Darragh"),
       NAMES("Aoife", "Siobhán", "Niamh", "Róisín"),
       NAMES("Ó Súilleabháin", "Murphy", "O'Brien", "Kelly"),
       NAMES("Galway", "Cork", "Kilkenny"),
       NAMES("Galway", "Cork", "Kilkenny"),
       NAMES("Main Street", "Church Road", "Grafton Street "),
       {"0##-###-####", "08#-###-####"},
       {},
       {},
       "PPS",
       "#######AA"},
      {"India",
       NAMES("Aarav", "Vihaan", "Ishaan", "Rohan"),
       NAMES("Ananya", "Diya", "Saanvi", "Ishita"),
       NAMES("Nair", "Reddy", "Kaur", "Menon"),
       NAMES("Pune", "Kochi", "Jaipur"),
       NAMES("Maharashtra", "Kerala", "Rajasthan"),
       NAMES("MG Road", "Nehru Marg", "Station Road "),
       {"#########", "#########"},
       {},
       {},
       "UIDAI",
       "############"},
      {"Iran",
       NAMES("محمد", "علی", "رضا", "امیر"),
       NAMES("زهرا", "فاطمه", "مریم", "نازنین"),
       NAMES("کریمی", "محمدی", "رضایی", "احمدی"),
       NAMES("تهران", "شیراز", "اصفهان"),
       NAMES("تهران", "فارس", "اصفهان"),
       NAMES("شهید بهشتی", "آزادی", "ولیعصر "),
       {"0##-########", "09##-###-####"},
       {},
       {},
       "",
       "",
       NAMES("mhmd", "aly", "rd", "amyr"),
       NAMES("zhra", "fatmh", "mrym", "naznyn"),
       NAMES("khrymy", "mhmdy", "rdayy", "ahmdy")},
      {"Mexico",
       NAMES("Rodrigo", "Tadeo", "Óscar", "Joaquín"),
       NAMES("Ximena", "Araceli", "Zoé", "Marisol"),
       NAMES("Ramírez", "Ortíz", "Cisneros", "de Jesús"),
       NAMES("Tlaxcala", "Mérida", "Querétaro"),
       NAMES("Yucatán", "Michoacán", "Nuevo León"),
       NAMES("Avenida Juárez", "Calle Hidalgo", "Privada Morelos "),
       {"(6##) ### ####", "(6##) ### ####"},
       {},
       {},
       "NSS",
       "## ## ## #### #"},
      {"Netherlands",
       NAMES("Daan", "Sem", "Thijs", "Bram"),
       NAMES("Fenna", "Sanne", "Iris", "Lotte"),
       NAMES("van den Berg", "de Vries", "Jansen", "van der Meer"),
       NAMES("Utrecht", "Zwolle", "'s-Hertogenbosch"),
       NAMES("Utrecht", "Overijssel", "Noord-Brabant"),
       NAMES("Kerkstraat", "Molenweg", "Stationsweg "),
       {"(0###) ######", "(06) ########"},
       {},
       {0, 0, {"#### AA", "#### AA"}},
       "BSN",
       "########"},
      {"Norway",
       NAMES("Håkon", "Sindre", "Øyvind", "Eirik"),
       NAMES("Ingrid", "Sigrid", "Åse", "Marte"),
       NAMES("Haugen", "Bakken", "Sæther", "Øvrebø"),
       NAMES("Tromsø", "Bodø", "Ålesund"),
       NAMES("Troms", "Nordland", "Møre og Romsdal"),
       NAMES("Storgata", "Kirkeveien", "Skogveien "),
       {"########", "4#######"},
       {},
       {0, 0, {"####", "0###"}},
       "FN",
       "###########"},
      {"New Zealand",
       NAMES("Nikau", "Tama", "Oliver", "Hunter"),
       NAMES("Aria", "Maia", "Ruby", "Georgia"),
       NAMES("Ngata", "Walker", "Thomas", "Parata"),
       NAMES("Whanganui", "Rotorua", "Tauranga"),
       NAMES("Manawatu-Wanganui", "Bay of Plenty", "Otago"),
       NAMES("Te Awe Awe Street", "Queen Street", "Tuam Street "),
       {"(###)-###-####", "(###)-###-####"},
       {},
       {},
       "",
       ""},
      {"Serbia",
       NAMES("Đorđe", "Nikola", "Miloš", "Dušan"),
       NAMES("Jelena", "Milica", "Anđela", "Teodora"),
       NAMES("Jovanović", "Petrović", "Đorđević", "Nikolić"),
       NAMES("Niš", "Čačak", "Šabac"),
       NAMES("Nišava", "Moravica", "Mačva"),
       NAMES("Kralja Petra", "Cara Dušana", "Njegoševa "),
       {"0##-####-###", "06#-####-###"},
       {},
       {},
       "SID",
       "#############"},
      {"Turkey",
       NAMES("Çağan", "Ömer", "Tarık", "Emre"),
       NAMES("Şebnem", "Gülşen", "Özlem", "Nur"),
       NAMES("Özkök", "Yıldırım", "Kahraman", "Tekelioğlu"),
       NAMES("İzmir", "Eskişehir", "Muğla"),
       NAMES("İzmir", "Eskişehir", "Muğla"),
       NAMES("Atatürk Sk", "Bağdat Cd", "Kushimoto Sk "),
       {"(###)-###-####", "(###)-###-####"},
       {},
       {},
       "",
       ""},
      {"Ukraine",
       NAMES("Bogdan", "Zakhar", "Yaroslav", "Orest"),
       NAMES("Kolodara", "Ulyana", "Bozhena", "Zlata"),
       NAMES("Pryadchenko", "Gorbenko", "Shevchuk", "Kovalenko"),
       NAMES("Oleksandrivsk", "Svitlovodsk", "Brovari"),
       NAMES("Hmelnicka", "Sumska", "Zhitomirska"),
       NAMES("Gruzecka", "Lesi Ukrayinki", "Zelena "),
       {"(0##) ###-####", "(0##) ###-####"},
       "(0##) A##-####",
       {},
       "",
       ""},
      {"United States",
       NAMES("Brandon", "Terrance", "Wyatt", "Jesse"),
       NAMES("Jessica", "Kaylee", "Brittany", "Naomi"),
       NAMES("Ramirez", "Sanders", "Oliver", "Mc Donald"),
       NAMES("Flint", "Wichita Falls", "Shelby"),
       NAMES("Michigan", "Texas", "North Carolina"),
       NAMES("Lovers Ln", "Hickory Creek Dr", "Pecan Acres Ln "),
       {"(###) ###-####", "(###) ###-####"},
       {},
       {},
       "SSN",
       "###-##-####"},
  }};
  return table;
}

#undef NAMES

struct timezone_entry {
  std::string_view offset;
  std::string_view description;
};

constexpr std::array<timezone_entry, 31> timezones = {{
    {"-12:00", "Eniwetok, Kwajalein"},
    {"-11:00", "Midway Island, Samoa"},
    {"-10:00", "Hawaii"},
    {"-9:00", "Alaska"},
    {"-8:00", "Pacific Time (US & Canada)"},
    {"-7:00", "Mountain Time (US & Canada)"},
    {"-6:00", "Central Time (US & Canada), Mexico City"},
    {"-5:00", "Eastern Time (US & Canada), Bogota, Lima"},
    {"-4:00", "Atlantic Time (Canada), Caracas, La Paz"},
    {"-3:30", "Newfoundland"},
    {"-3:00", "Brazil, Buenos Aires, Georgetown"},
    {"-2:00", "Mid-Atlantic"},
    {"-1:00", "Azores, Cape Verde Islands"},
    {"0:00", "Western Europe Time, London, Lisbon, Casablanca"},
    {"+1:00", "Brussels, Copenhagen, Madrid, Paris"},
    {"+2:00", "Kaliningrad, South Africa"},
    {"+3:00", "Baghdad, Riyadh, Moscow, St. Petersburg"},
    {"+3:30", "Tehran"},
    {"+4:00", "Abu Dhabi, Muscat, Baku, Tbilisi"},
    {"+4:30", "Kabul"},
    {"+5:00", "Ekaterinburg, Islamabad, Karachi, Tashkent"},
    {"+5:30", "Bombay, Calcutta, Madras, New Delhi"},
    {"+5:45", "Kathmandu"},
    {"+6:00", "Almaty, Dhaka, Colombo"},
    {"+7:00", "Bangkok, Hanoi, Jakarta"},
    {"+8:00", "Beijing, Perth, Singapore, Hong Kong"},
    {"+9:00", "Tokyo, Seoul, Osaka, Sapporo, Yakutsk"},
    {"+9:30", "Adelaide, Darwin"},
    {"+10:00", "Eastern Australia, Guam, Vladivostok"},
    {"+11:00", "Magadan, Solomon Islands, New Caledonia"},
    {"+12:00", "Auckland, Wellington, Fiji, Kamchatka"},
}};

constexpr std::array<std::string_view, 12> username_words = {"happy",  "tiny", "silver", "brown",
                                                             "purple", "lazy", "crazy",  "heavy",
                                                             "tiger",  "swan", "koala",  "fish"};
constexpr std::array<std::string_view, 10> passwords = {"dragon",  "monkey",   "sunshine", "qwerty",
                                                        "letmein", "trustno1", "shadow",   "master",
                                                        "freedom", "chicago"};

// 1944-08-25 and 2001-05-28 bound dob; 2002-03-21 and 2022-05-23 bound registered (as upstream).
constexpr std::int64_t dob_min_ms = -800'150'400'000;
constexpr std::int64_t dob_max_ms = 990'921'600'000;
constexpr std::int64_t registered_min_ms = 1'016'668'800'000;
constexpr std::int64_t registered_max_ms = 1'653'264'000'000;

std::string fill(std::string_view pattern, sim_draws& draws) {
  std::string out;
  for (const char c : pattern) {
    if (c == '#') {
      out += static_cast<char>('0' + draws.below(10));
    } else if (c == 'A') {
      out += static_cast<char>('A' + draws.below(26));
    } else {
      out += c;
    }
  }
  return out;
}

// Lowercase ASCII for an email: Latin letters with diacritics lose them, other bytes go.
std::string ascii_fold(std::string_view s) {
  static const std::array<std::pair<std::string_view, std::string_view>, 40> folds = {{
      {"á", "a"}, {"à", "a"}, {"â", "a"}, {"ä", "a"},  {"ã", "a"}, {"å", "a"}, {"æ", "ae"},
      {"ç", "c"}, {"č", "c"}, {"ć", "c"}, {"đ", "d"},  {"é", "e"}, {"è", "e"}, {"ê", "e"},
      {"ë", "e"}, {"ğ", "g"}, {"í", "i"}, {"ì", "i"},  {"î", "i"}, {"ï", "i"}, {"ı", "i"},
      {"İ", "i"}, {"ñ", "n"}, {"ó", "o"}, {"ò", "o"},  {"ô", "o"}, {"ö", "o"}, {"ø", "o"},
      {"õ", "o"}, {"ş", "s"}, {"š", "s"}, {"ß", "ss"}, {"ú", "u"}, {"ù", "u"}, {"û", "u"},
      {"ü", "u"}, {"ž", "z"}, {"Ø", "o"}, {"Å", "a"},  {"Ó", "o"},
  }};
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 128) {
      if (std::isalnum(c) != 0) {
        out += static_cast<char>(std::tolower(c));
      }
      ++i;
      continue;
    }
    bool folded = false;
    for (const auto& [from, to] : folds) {
      if (s.substr(i).starts_with(from)) {
        out += to;
        i += from.size();
        folded = true;
        break;
      }
    }
    if (!folded) {
      ++i;  // a byte of a letter with no ASCII form: left out
    }
  }
  return out;
}

std::string uuid_v4(sim_draws& draws) {
  auto hex = sim_hex_id(draws.next(), 0, 0, 32);
  hex[12] = '4';
  hex[16] = "89ab"[draws.below(4)];
  return fmt::format("{}-{}-{}-{}-{}", hex.substr(0, 8), hex.substr(8, 4), hex.substr(12, 4),
                     hex.substr(16, 4), hex.substr(20));
}

bj::object instant(std::int64_t ms, std::chrono::sys_days today) {
  const sim_clock::time_point t{std::chrono::milliseconds{ms}};
  const std::chrono::year_month_day born{std::chrono::floor<std::chrono::days>(t)};
  const std::chrono::year_month_day now{today};
  int age = static_cast<int>(now.year()) - static_cast<int>(born.year());
  if (std::chrono::month_day{now.month(), now.day()} <
      std::chrono::month_day{born.month(), born.day()}) {
    --age;
  }
  return {{"date", sim_iso_millis(t)}, {"age", age}};
}

}  // namespace

std::span<const std::string_view> randomuser_nats() noexcept {
  return nats;
}

bj::object randomuser_user(const randomuser_request& request, std::uint64_t index,
                           std::chrono::sys_days today) {
  sim_draws draws(
      sim_hash(sim_text_hash(request.seed), salt_user, static_cast<std::uint64_t>(request.page)),
      index);
  std::size_t nat = draws.below(nats.size());
  if (!request.nats.empty()) {
    const auto& code = request.nats[draws.below(request.nats.size())];
    nat = static_cast<std::size_t>(std::find(nats.begin(), nats.end(), code) - nats.begin());
  }
  const auto& n = nat_table()[nat];
  bool female = draws.percent(50);
  if (request.gender && !request.seed_given) {
    female = *request.gender == "female";
  }
  const auto pick = [&](list items) { return items[draws.below(items.size())]; };
  const auto first_i = draws.below(4);
  const auto last_i = draws.below(n.last.size());
  const std::string_view first = (female ? n.female : n.male)[first_i];
  const std::string_view last = n.last[last_i];
  std::string_view title =
      female ? std::array<std::string_view, 3>{"Miss", "Mrs", "Ms"}[draws.below(3)] : "Mr";
  if (nats[nat] == "CH") {
    title = female ? (draws.percent(50) ? "Madame" : "Mademoiselle") : "Monsieur";
  }
  std::string email_first;
  std::string email_last;
  if (!n.ascii_last.empty()) {
    email_first = (female ? n.ascii_female : n.ascii_male)[first_i];
    email_last = n.ascii_last[last_i];
  } else {
    email_first = ascii_fold(first);
    email_last = ascii_fold(last);
  }

  bj::value postcode;
  if (!n.postcode.patterns[0].empty()) {
    postcode = bj::string(fill(n.postcode.patterns[draws.below(2)], draws));
  } else {
    postcode = draws.between(n.postcode.lo, n.postcode.hi);
  }
  const auto& zone = timezones[draws.below(timezones.size())];
  const auto coordinate = [&](int range) {
    const auto tenths = draws.between(-range * 10000, range * 10000);
    return fmt::format("{}{}.{:04}", tenths < 0 ? "-" : "", std::abs(tenths) / 10000,
                       std::abs(tenths) % 10000);
  };
  const std::string latitude = coordinate(90);
  const std::string longitude = coordinate(180);
  const std::string password(pick(passwords));
  std::string salt;
  for (int i = 0; i < 8; ++i) {
    salt += "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[draws.below(62)];
  }
  const std::string uuid = uuid_v4(draws);
  const std::string username =
      fmt::format("{}{}{}", pick(username_words), pick(username_words), draws.between(100, 999));
  const auto phone = [&](std::string_view pattern) {
    return fill(!n.lettered_phone.empty() && draws.percent(30) ? n.lettered_phone : pattern, draws);
  };
  const auto portrait = draws.below(100);
  const std::string_view folder = female ? "women" : "men";

  bj::object id{{"name", n.id_name}, {"value", nullptr}};
  if (!n.id_pattern.empty()) {
    id["value"] = fill(n.id_pattern, draws);
  }
  return {
      {"gender", female ? "female" : "male"},
      {"name", {{"title", title}, {"first", first}, {"last", last}}},
      {"location",
       {{"street", {{"number", draws.between(1, 9999)}, {"name", pick(n.streets)}}},
        {"city", pick(n.cities)},
        {"state", pick(n.states)},
        {"country", n.country},
        {"postcode", std::move(postcode)},
        {"coordinates", {{"latitude", latitude}, {"longitude", longitude}}},
        {"timezone", {{"offset", zone.offset}, {"description", zone.description}}}}},
      {"email", fmt::format("{}.{}@example.com", email_first, email_last)},
      {"login",
       {{"uuid", uuid},
        {"username", username},
        {"password", password},
        {"salt", salt},
        {"md5", sim_md5_hex(password + salt)},
        {"sha1", sim_sha1_hex(password + salt)},
        {"sha256", sim_sha256_hex(password + salt)}}},
      {"dob", instant(draws.between(dob_min_ms, dob_max_ms), today)},
      {"registered", instant(draws.between(registered_min_ms, registered_max_ms), today)},
      {"phone", phone(n.phones[0])},
      {"cell", phone(n.phones[1])},
      {"id", std::move(id)},
      {"picture",
       {{"large", fmt::format("https://randomuser.me/api/portraits/{}/{}.jpg", folder, portrait)},
        {"medium",
         fmt::format("https://randomuser.me/api/portraits/med/{}/{}.jpg", folder, portrait)},
        {"thumbnail",
         fmt::format("https://randomuser.me/api/portraits/thumb/{}/{}.jpg", folder, portrait)}}},
      {"nat", nats[nat]},
  };
}

}  // namespace etl
