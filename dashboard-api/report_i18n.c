/* report_i18n.c - every word of the report, in Kazakh, Russian and
 * English, in one table. The terms are the dashboard's
 * (dashboard-api/web/src/locales/{kk,ru,en}.js) and, for Kazakh, those of the
 * source documents (/work/shared/seeds/README.md: ағзалар мен тіндерді
 * тасымалдау, консервациялау, трансплантаттау, медициналық авиация, жедел
 * медициналық жәрдем, медицина қызметкерінің құпиясы). Placeholders are
 * {1}..{9} (report_fmt__subst); Kazakh sentences are worded so that no
 * suffix has to follow a placeholder (vowel harmony would need the value). */
#include "report_int.h"

#include <string.h>

#define L(kk, ru, en)                                                                              \
    {                                                                                              \
        kk, ru, en                                                                                 \
    }

static const char *const strs[RS__COUNT][REPORT_LANG__COUNT] = {
    [RS_TITLE] = L("Ағзалар мен тіндерді тасымалдау есебі",
                   "Отчёт о транспортировке органов и тканей", "Organ and tissue transport report"),
    [RS_SUBTITLE] = L("Температура, табыстау тізбегі және электрондық қолтаңбалар",
                      "Температура, цепочка передачи и электронные подписи",
                      "Temperature, custody trail and electronic signatures"),
    [RS_DONATION_CODE] = L("Донорлық код", "Код донации", "Donation code"),
    [RS_SHIPMENT_NO] = L("Тасымал №", "Перевозка №", "Shipment no."),
    [RS_REPORT_TIME] = L("Есеп уақыты", "Время отчёта", "Report time"),
    [RS_REPORT_TIME_NOTE] = L("тізбектің соңғы жазбасының уақыты; бір тізбектен әрқашан бірдей "
                              "файл шығады",
                              "время последней записи цепочки; из одной цепочки всегда "
                              "получается один и тот же файл",
                              "the time of the trail's last entry; the same trail always gives "
                              "the same file"),
    [RS_TIMES_IN] = L("Уақыт белдеуі: {1}", "Часовой пояс: {1}", "Times in {1}"),
    [RS_PAGE] = L("Бет {1} / {2}", "Стр. {1} / {2}", "Page {1} / {2}"),
    [RS_PRIVACY] = L("Пациенттің жеке басы көрсетілмейді: тек донорлық код (медицина "
                     "қызметкерінің құпиясы).",
                     "Личность пациента не указывается: только код донации (врачебная тайна).",
                     "No patient identity is shown: donation code only (medical secrecy)."),
    [RS_STATUS] = L("Күйі", "Статус", "Status"),
    [RS_SEC_IDENTITY] = L("Тасымал", "Перевозка", "Shipment"),
    [RS_CONTENT] = L("Мазмұны", "Содержимое", "Content"),
    [RS_LATERALITY] = L("Жағы", "Сторона", "Laterality"),
    [RS_ABO] = L("Донордың қан тобы (ABO)", "Группа крови донора (ABO)", "Donor blood group (ABO)"),
    [RS_CONTAINER] = L("Контейнер", "Контейнер", "Container"),
    [RS_MODE] = L("Тасымалдау түрі", "Вид транспорта", "Transport mode"),
    [RS_SEC_RELEASE] = L("Қорытынды", "Заключение", "Release status"),
    [RS_NOT_SIGNED] =
        L("Қол қойылмаған: есепті ешкім бекітпеген.", "Не подписано: отчёт никем не утверждён.",
          "Not signed: nobody has signed this report off."),
    [RS_SEC_ROUTE] = L("Бағыт", "Маршрут", "Route"),
    [RS_ORIGIN] = L("Жөнелту орны", "Отправление", "Origin"),
    [RS_DESTINATION] = L("Баратын орны", "Назначение", "Destination"),
    [RS_LEGS] = L("Кезеңдер", "Этапы", "Legs"),
    [RS_LEG_MODE] = L("Түрі", "Вид", "Mode"),
    [RS_FROM] = L("Қайдан", "Откуда", "From"),
    [RS_TO] = L("Қайда", "Куда", "To"),
    [RS_PLANNED_DEP] = L("Жоспарлы жөнелу", "План. отправление", "Planned departure"),
    [RS_PLANNED_ARR] = L("Жоспарлы келу", "План. прибытие", "Planned arrival"),
    [RS_CARRIER] = L("Тасымалдаушы, рейс", "Перевозчик, рейс", "Carrier, flight"),
    [RS_NO_LEGS] =
        L("Кезеңдер жоспарланбаған.", "Этапы не планировались.", "No legs were planned."),
    [RS_SEC_ISCH] = L("Суық ишемия", "Холодовая ишемия", "Cold ischaemia"),
    [RS_CROSS_CLAMP] =
        L("Аортаны қысу (cross-clamp)", "Пережатие аорты (cross-clamp)", "Cross-clamp"),
    [RS_ISCH_END] = L("Ишемияның аяқталуы", "Окончание ишемии", "End of ischaemia"),
    [RS_END_REPERF] = L("реперфузия", "реперфузия", "reperfusion"),
    [RS_END_DELIV] = L("жеткізу (реперфузия тіркелмеген)", "доставка (реперфузия не записана)",
                       "delivery (reperfusion not recorded)"),
    [RS_END_OPEN] =
        L("аяқталмаған: есеп уақытына дейін есептелді", "не окончена: считано до времени отчёта",
          "not ended: counted to the report time"),
    [RS_ISCH_TOTAL] = L("Жалпы уақыты", "Всего", "Total"),
    [RS_ISCH_LIMIT] = L("Шегі", "Предел", "Limit"),
    [RS_WITHIN] = L("шегінде: {1} %", "в пределах: {1} %", "within the limit: {1} %"),
    [RS_EXCEEDED] = L("шегінен асты: {1} %", "предел превышен: {1} %", "limit exceeded: {1} %"),
    [RS_DEADLINE] = L("Соңғы мерзім", "Крайний срок", "Deadline"),
    [RS_SEC_STATS] =
        L("Температура статистикасы", "Статистика температуры", "Temperature statistics"),
    [RS_BAND] = L("Консервациялау ауқымы", "Диапазон консервации", "Preservation band"),
    [RS_MIN] = L("Ең төменгі", "Минимум", "Minimum"),
    [RS_MAX] = L("Ең жоғары", "Максимум", "Maximum"),
    [RS_MEAN] = L("Орташа", "Среднее", "Mean"),
    [RS_MKT] = L("Орташа кинетикалық температура (MKT)", "Средняя кинетическая температура (MKT)",
                 "Mean kinetic temperature (MKT)"),
    [RS_MKT_NOTE] = L("ΔH = 83,144 кДж/моль; әр көрсеткіш бір рет есептеледі (USP <1079.2>)",
                      "ΔH = 83,144 кДж/моль; каждое показание учитывается один раз (USP "
                      "<1079.2>)",
                      "ΔH = 83.144 kJ/mol; each reading counted once (USP <1079.2>)"),
    [RS_OUTSIDE] = L("Ауқымнан тыс уақыт", "Время вне диапазона", "Time outside the band"),
    [RS_OUTSIDE_VAL] =
        L("{1}; өлшенген уақыт: {2}", "{1} из {2} измеренного времени", "{1} of {2} measured"),
    [RS_RECEIVED] = L("Алынған көрсеткіштер", "Получено показаний", "Readings received"),
    [RS_RECEIVED_VAL] = L("{1} ({2} — ағза температурасымен)", "{1} (с температурой органа: {2})",
                          "{1} ({2} with the product temperature)"),
    [RS_GAPS] = L("Үзілістер", "Пропуски", "Gaps"),
    [RS_GAPS_VAL] = L("{1}, барлығы {2} (шегі: {3})", "{1}, всего {2} (порог: {3})",
                      "{1}, {2} in total (threshold {3})"),
    [RS_SEQ_MISSING] =
        L("Келмеген көрсеткіштер", "Не поступившие показания", "Readings that never arrived"),
    [RS_LOST] = L("Жоғалғаны жарияланған көрсеткіштер", "Объявленные потери", "Declared losses"),
    [RS_RANGES_VAL] = L("аралықтар: {1}, көрсеткіштер: {2}", "интервалов: {1}, показаний: {2}",
                        "ranges: {1}, readings: {2}"),
    [RS_EXC_VAL] =
        L("{1}; шекті мәні: {2} (тізімі графиктің астында)",
          "{1}; пик: {2} (список — под графиком)", "{1}; peak {2} (listed under the chart)"),
    [RS_NONE] = L("жоқ", "нет", "none"),
    [RS_PRODUCT] = L("Ағза (негізгі датчик)", "Орган (основной датчик)", "Product (main probe)"),
    [RS_PROBE2] = L("Екінші датчик", "Второй датчик", "Second probe"),
    [RS_AMBIENT] = L("Қоршаған орта", "Окружающая среда", "Ambient"),
    [RS_MIN_MAX_MEAN] = L("ең төм. {1} · ең жоғ. {2} · орташа {3}",
                          "мин. {1} · макс. {2} · ср. {3}", "min {1} · max {2} · mean {3}"),
    [RS_PERIOD] = L("Кезең", "Период", "Period"),
    [RS_SEC_CHART] = L("Температура және консервациялау ауқымы",
                       "Температура и диапазон консервации", "Temperature and preservation band"),
    [RS_LEG_BAND] = L("Ауқым", "Диапазон", "Band"),
    [RS_LEG_EXC] = L("Ауқымнан шығу", "Выход из диапазона", "Excursion"),
    [RS_LEG_GAP] = L("Үзіліс (көрсеткіш жоқ)", "Пропуск (нет показаний)", "Gap (no readings)"),
    [RS_LEG_CUSTODY] = L("Тізбек жазбасы", "Запись цепочки", "Custody entry"),
    [RS_CHART_NOTE] = L("Графикте әр бағанның ең төменгі және ең жоғары мәні салынған; статистика "
                        "барлық {1} көрсеткіш бойынша есептелген.",
                        "На графике — минимум и максимум каждого столбца; статистика рассчитана "
                        "по всем показаниям ({1}).",
                        "Drawn as the minimum and maximum of each column; the statistics use all "
                        "{1} readings."),
    [RS_NO_READINGS] = L("Көрсеткіштер жоқ.", "Показаний нет.", "No readings."),
    [RS_AXIS_TEMP] = L("°C", "°C", "°C"),
    [RS_AXIS_TIME] = L("Уақыт ({1})", "Время ({1})", "Time ({1})"),
    [RS_SEC_EXC] = L("Ауқымнан шығулар", "Выходы из диапазона", "Excursions"),
    [RS_START] = L("Басталуы", "Начало", "Start"),
    [RS_END] = L("Аяқталуы", "Конец", "End"),
    [RS_DURATION] = L("Ұзақтығы", "Длительность", "Duration"),
    [RS_PEAK] = L("Шекті мәні", "Пик", "Peak"),
    [RS_NO_EXC] = L("Ауқымнан шығу болған жоқ.", "Выходов из диапазона не было.", "No excursions."),
    [RS_MORE] = L("… тағы {1}", "… и ещё {1}", "… and {1} more"),
    [RS_SEC_GAPS] = L("Үзілістер мен жоғалтулар", "Пропуски и потери", "Gaps and losses"),
    [RS_KIND] = L("Түрі", "Вид", "Kind"),
    [RS_GAP_TIME] = L("көрсеткіш жоқ", "нет показаний", "no readings"),
    [RS_GAP_SEQ] =
        L("келмеген: seq {1}–{2}", "не поступили: seq {1}–{2}", "never arrived: seq {1}–{2}"),
    [RS_GAP_LOST] = L("жоғалғаны жарияланған: seq {1}–{2}", "объявлены потерянными: seq {1}–{2}",
                      "declared lost: seq {1}–{2}"),
    [RS_NO_GAPS] = L("Үзіліс болған жоқ.", "Пропусков не было.", "No gaps."),
    [RS_SEC_ALARMS] = L("Дабылдар", "Тревоги", "Alarms"),
    [RS_ALARM] = L("Дабыл", "Тревога", "Alarm"),
    [RS_SEVERITY] = L("Деңгейі", "Уровень", "Severity"),
    [RS_RAISED] = L("Көтерілді", "Поднята", "Raised"),
    [RS_CLEARED] = L("Жойылды", "Снята", "Cleared"),
    [RS_ACKED] = L("Растаған", "Подтвердил(а)", "Acknowledged by"),
    [RS_COMMENT] = L("Түсініктеме", "Комментарий", "Comment"),
    [RS_NO_ALARMS] = L("Дабыл болған жоқ.", "Тревог не было.", "No alarms."),
    [RS_SEC_CUSTODY] = L("Табыстау тізбегі", "Цепочка передачи", "Custody trail"),
    [RS_COL_INDEX] = L("№", "№", "#"),
    [RS_COL_TIME] = L("Уақыты", "Время", "Time"),
    [RS_COL_EVENT] = L("Оқиға", "Событие", "Event"),
    [RS_COL_PARTIES] = L("Тапсырды → қабылдады", "Передал → принял", "From → to"),
    [RS_COL_WITNESS] = L("Куә", "Свидетель", "Witness"),
    [RS_COL_SEAL] = L("Пломба", "Пломба", "Seal"),
    [RS_COL_TEMP] = L("°C", "°C", "°C"),
    [RS_COL_HASH] = L("Хэш", "Хеш", "Hash"),
    [RS_LOGGED_BY] = L("жазған: {1}", "записал(а): {1}", "logged by {1}"),
    [RS_CUSTODY_NOTE] = L("Хэштің алғашқы 16 таңбасы; толық хэштер бумада. Әр жазба алдыңғысының "
                          "хэшіне сілтейді.",
                          "Первые 16 знаков хеша; полные хеши — в пакете. Каждая запись "
                          "ссылается на хеш предыдущей.",
                          "First 16 hex digits of each hash; the bundle has them in full. Every "
                          "entry is linked to the hash of the one before."),
    [RS_NO_CUSTODY] = L("Жазбалар жоқ.", "Записей нет.", "No entries."),
    [RS_SEC_SIG] = L("Электрондық қолтаңбалар", "Электронные подписи", "Electronic signatures"),
    [RS_SIG_NAME] = L("Аты-жөні", "ФИО", "Printed name"),
    [RS_ROLE] = L("Рөлі", "Роль", "Role"),
    [RS_MEANING] = L("Мәні", "Значение", "Meaning"),
    [RS_STATEMENT] = L("Мәлімдеме", "Заявление", "Statement"),
    [RS_ENTRY] = L("Жазба", "Запись", "Entry"),
    [RS_SIG_NOTE] = L("Әр қолтаңба табыстау тізбегіне «signed» жазбасы ретінде қосылған: ол "
                      "хэшпен тізбектелген және басқа жазбалармен бірге тексеріледі (21 CFR "
                      "11.50). Қол қоюшы токенінен бөлек PIN-кодпен расталған.",
                      "Каждая подпись — запись «signed» цепочки передачи: связана хешем и "
                      "проверяется вместе с остальными (21 CFR 11.50). Подтверждена PIN-кодом, "
                      "отдельным от токена подписанта.",
                      "Each signature is a “signed” entry of the custody trail: hash-chained and "
                      "verified with the rest (21 CFR 11.50), confirmed with a PIN distinct from "
                      "the signer's token."),
    [RS_NO_SIG] = L("Қолтаңба жоқ.", "Подписей нет.", "No signatures."),
    [RS_SEC_LEDGER] = L("Тізбекті тексеру", "Проверка цепочки", "Verifying the trail"),
    [RS_HEAD_HASH] = L("Тізбек басының хэші (жазба №{1})", "Хеш головы цепочки (запись №{1})",
                       "Ledger head hash (entry #{1})"),
    [RS_HEAD_SIG] =
        L("Бас қолтаңбасы (Ed25519)", "Подпись головы (Ed25519)", "Head signature (Ed25519)"),
    [RS_PUBKEY] = L("Сервердің ашық кілті", "Открытый ключ сервера", "Server public key"),
    [RS_VERIFY_1] = L("1. Буманы жүктеп алыңыз: Аудитор → Экспорт → Бума, немесе "
                      "GET /api/v1/shipments/{1}/export?format=bundle; bundle.json деп сақтаңыз.",
                      "1. Скачайте пакет: Аудитор → Экспорт → Пакет или "
                      "GET /api/v1/shipments/{1}/export?format=bundle; сохраните как bundle.json.",
                      "1. Download the bundle: Auditor → Export → Bundle, or "
                      "GET /api/v1/shipments/{1}/export?format=bundle; save it as bundle.json."),
    [RS_VERIFY_2] = L("2. Желісіз, серверге сенбей-ақ, ашық кілтті байланыстың басқа арнасынан "
                      "алып, іске қосыңыз:",
                      "2. Офлайн, не доверяя серверу, с ключом, полученным по другому каналу, "
                      "выполните:",
                      "2. Offline, without trusting the server, with the key obtained through "
                      "another channel, run:"),
    [RS_VERIFY_3] = L("3. Жауап «OK … entries={1}» болуы керек, ал бумадағы head.hash жоғарыдағы "
                      "хэшпен бірдей болуы тиіс. «FAIL» бірінші бұзылған жазбаны атайды: мұндай "
                      "есепке сенуге болмайды.",
                      "3. Ответ должен быть «OK … entries={1}», а head.hash в пакете — совпадать "
                      "с хешем выше. «FAIL» называет первую неверную запись: такому отчёту "
                      "доверять нельзя.",
                      "3. It must answer “OK … entries={1}”, and head.hash in the bundle must "
                      "equal the hash above. “FAIL” names the first bad entry: do not rely on "
                      "this report then."),
    [RS_FILE_NOTE] =
        L("Бұл есеп — тізбектің функциясы: бір тізбек пен бір тілден әрқашан бірдей файл "
          "шығады. Файлдың SHA-256 хэшін сервер X-Content-SHA256 тақырыбында береді; "
          "басылған есепті кейін тізбекпен осы хэш арқылы салыстыруға болады.",
          "Этот отчёт — функция цепочки: из одной цепочки на одном языке всегда "
          "получается один и тот же файл. Сервер передаёт SHA-256 файла в заголовке "
          "X-Content-SHA256; по нему напечатанный отчёт можно позже сверить с "
          "цепочкой.",
          "This report is a function of the trail: the same trail in the same "
          "language always gives the same file. The server sends the file's SHA-256 "
          "in the X-Content-SHA256 header, by which a printed report can later be "
          "matched to the trail."),
};

const char *report_i18n__str(enum report_lang lang, enum report_str key)
{
    if ((unsigned)lang >= REPORT_LANG__COUNT || (unsigned)key >= RS__COUNT || !strs[key][lang])
        return "?";
    return strs[key][lang];
}

/* Stored vocabulary -> words. */
struct word {
    const char *group, *value;
    const char *w[REPORT_LANG__COUNT];
};

static const struct word words[] = {
    {"profile", "heart", L("жүрек", "сердце", "heart")},
    {"profile", "kidney", L("бүйрек", "почка", "kidney")},
    {"profile", "liver", L("бауыр", "печень", "liver")},
    {"profile", "lung", L("өкпе", "лёгкое", "lung")},
    {"profile", "pancreas", L("ұйқы безі", "поджелудочная железа", "pancreas")},
    {"profile", "intestine", L("ішек", "кишечник", "intestine")},
    {"profile", "cornea", L("көздің қасаң қабығы", "роговица", "cornea")},
    {"profile", "tissue", L("тін", "ткань", "tissue")},
    {"profile", "bone", L("сүйек тіні", "костная ткань", "bone tissue")},
    {"profile", "skin", L("тері", "кожа", "skin")},
    {"profile", "heart_valve", L("жүрек қақпақшасы", "клапан сердца", "heart valve")},
    {"profile", "vessel", L("қан тамыры", "кровеносный сосуд", "blood vessel")},
    {"profile", "frozen_tissue", L("мұздатылған тін", "замороженная ткань", "frozen tissue")},
    {"profile", "cryopreserved_tissue",
     L("криоконсервацияланған тін", "криоконсервированная ткань", "cryopreserved tissue")},
    {"laterality", "left", L("сол", "левая", "left")},
    {"laterality", "right", L("оң", "правая", "right")},
    {"laterality", "both", L("екеуі де", "обе", "both")},
    {"mode", "ground",
     L("жер үсті (жедел медициналық жәрдем)", "наземный (скорая помощь)", "ground (ambulance)")},
    {"mode", "air", L("медициналық авиация", "санитарная авиация", "medical aviation")},
    {"mode", "mixed",
     L("аралас (жедел медициналық жәрдем + медициналық авиация)",
       "смешанный (скорая помощь + санавиация)", "mixed (ambulance + medical aviation)")},
    {"leg", "ground", L("жер үсті", "наземный", "ground")},
    {"leg", "air", L("әуе", "воздушный", "air")},
    {"status", "created", L("құрылды", "создана", "created")},
    {"status", "in_transit", L("жолда", "в пути", "in transit")},
    {"status", "delivered", L("жеткізілді", "доставлена", "delivered")},
    {"status", "closed", L("жабылды", "закрыта", "closed")},
    {"status", "discarded", L("жарамсыз деп танылды", "списана", "discarded")},
    {"ctype", "packed", L("қапталды", "упакован", "packed")},
    {"ctype", "handoff", L("табыстау", "передача", "hand-off")},
    {"ctype", "departed", L("жолға шықты", "отправлен", "departed")},
    {"ctype", "arrived", L("келді", "прибыл", "arrived")},
    {"ctype", "received", L("қабылданды", "принят", "received")},
    {"ctype", "opened", L("ашылды", "вскрыт", "opened")},
    {"ctype", "discarded", L("жойылды", "утилизирован", "discarded")},
    {"ctype", "note", L("жазба", "заметка", "note")},
    {"ctype", "checkin", L("қабылдау кезінде тексеру", "проверка при приёме", "check-in")},
    {"ctype", "reperfused", L("реперфузия", "реперфузия", "reperfused")},
    {"ctype", "signed", L("қол қойылды", "подписано", "signed")},
    {"ctype", "redirected", L("бағыты өзгертілді", "перенаправлен", "redirected")},
    {"role", "crew", L("экипаж", "экипаж", "crew")},
    {"role", "coordinator",
     L("трансплантаттау үйлестірушісі", "трансплант-координатор", "transplant coordinator")},
    {"role", "auditor", L("аудитор", "аудитор", "auditor")},
    {"role", "admin", L("әкімші", "администратор", "administrator")},
    /* in table cells */
    {"role_short", "crew", L("экипаж", "экипаж", "crew")},
    {"role_short", "coordinator", L("үйлестіруші", "координатор", "coordinator")},
    {"role_short", "auditor", L("аудитор", "аудитор", "auditor")},
    {"role_short", "admin", L("әкімші", "администратор", "admin")},
    {"meaning", "released", L("рұқсат берілді", "выпуск разрешён", "released")},
    {"meaning", "reviewed", L("тексерілді", "проверено", "reviewed")},
    {"meaning", "rejected", L("қабылданбады", "отклонено", "rejected")},
    {"severity", "info", L("ақпарат", "информация", "info")},
    {"severity", "warning", L("ескерту", "предупреждение", "warning")},
    {"severity", "critical", L("қауіпті", "критично", "critical")},
    {"alarm", "temp_excursion",
     L("Температура ауқымнан тыс", "Температура вне диапазона", "Temperature out of band")},
    {"alarm", "temp_forecast",
     L("Болжам: температура ауқымнан шығуы мүмкін", "Прогноз: выход температуры из диапазона",
       "Temperature forecast: leaving band")},
    {"alarm", "ischemia_warn",
     L("Ишемия уақыты таусылып барады", "Время ишемии на исходе", "Ischaemia time running out")},
    {"alarm", "ischemia_limit",
     L("Ишемия шегінен асты", "Превышен предел ишемии", "Ischaemia limit exceeded")},
    {"alarm", "eta_late",
     L("Кешігу: келу уақыты мерзімнен кеш", "Опоздание: прибытие позже срока",
       "Late: ETA past deadline")},
    {"alarm", "lid_open", L("Қақпағы ашық", "Крышка открыта", "Lid open")},
    {"alarm", "shock", L("Соққы", "Удар", "Shock")},
    {"alarm", "battery_low", L("Батарея заряды аз", "Низкий заряд батареи", "Battery low")},
    {"alarm", "gnss_lost", L("GNSS орны жоқ", "Нет GNSS-позиции", "GNSS fix lost")},
    {"alarm", "sensor_silent", L("Датчик үнсіз", "Датчик молчит", "Sensor silent")},
    {"alarm", "gateway_offline", L("Шлюз желіде жоқ", "Шлюз не в сети", "Gateway offline")},
    {"alarm", "identity_mismatch",
     L("Белгідегі деректер сәйкес емес", "Несовпадение данных этикетки", "Identity mismatch")},
};

const char *report_i18n__word(enum report_lang lang, const char *group, const char *value)
{
    if (!value)
        return "—";
    if ((unsigned)lang >= REPORT_LANG__COUNT)
        return value;
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcmp(words[i].group, group) == 0 && strcmp(words[i].value, value) == 0)
            return words[i].w[lang];
    return value;
}
